"""The project's URLs plus the public notice pages (prefix ``public/``) and the feedback queue and inbox
(prefix ``supervision/``), as the lead will include them."""

from django.urls import include, path

from jishi.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("public/", include("jishi.supervision.urls_public")),
    path("supervision/", include("jishi.supervision.urls_inbox")),
]
