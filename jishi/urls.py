from django.urls import include, path

from jishi.supervision import urls as supervision_urls

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("jishi.accounts.urls")),
    path("", include("jishi.accounts.urls_admin")),
    path("", include("jishi.selection.urls")),
    path("cadres/", include("jishi.cadres.urls")),
    path("procedures/", include("jishi.procedures.urls")),
    path("ledger/", include("jishi.supervision.urls")),
    path("documents/", include("jishi.documents.urls")),
    path("archives/", include("jishi.archives.urls")),
    path("api/v1/", include("jishi.api.urls")),
    path("account/tokens/", include("jishi.api.urls_pages")),
    path("", include("jishi.ops.urls")),
    path("supervision/", include(supervision_urls.site_urlpatterns)),
    path("public/", include("jishi.supervision.urls_public")),
]
