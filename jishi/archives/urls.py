"""档案管理 pages, included at ``archives/``."""

from django.urls import path

from . import views, views_custody

urlpatterns = [
    path("", views.archive_list, name="archive_list"),
    path("batches/<int:pk>/build/", views.archive_build, name="archive_build"),
    path("volumes/<int:pk>/", views.archive_volume, name="archive_volume"),
    path("volumes/<int:pk>/organize/", views.archive_organize, name="archive_organize"),
    path("volumes/<int:pk>/accept/", views.archive_accept, name="archive_accept"),
    path("volumes/<int:pk>/catalogue.<str:fmt>", views.archive_catalogue, name="archive_catalogue"),
    path("volumes/<int:pk>/transfer/", views_custody.archive_transfer, name="archive_transfer"),
    path("volumes/<int:pk>/transfer-list.<str:fmt>", views_custody.archive_transfer_list, name="archive_transfer_list"),
    path("volumes/<int:pk>/holds/", views_custody.archive_hold_place, name="archive_hold_place"),
    path("holds/<int:pk>/release/", views_custody.archive_hold_release, name="archive_hold_release"),
    path("retention/", views_custody.archive_retention, name="archive_retention"),
    path("retention/propose/", views_custody.archive_propose, name="archive_propose"),
    path("dispositions/<int:pk>/", views_custody.archive_disposition, name="archive_disposition"),
    path("dispositions/<int:pk>/decide/", views_custody.archive_decide, name="archive_decide"),
    path("dispositions/<int:pk>/execute/", views_custody.archive_execute, name="archive_execute"),
    path("dispositions/<int:pk>/list.pdf", views_custody.archive_disposition_pdf, name="archive_disposition_pdf"),
]
