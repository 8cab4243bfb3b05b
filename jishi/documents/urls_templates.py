"""参考模本 URLs; included under ``documents/``."""

from django.urls import path

from . import views_templates as views

urlpatterns = [
    path("templates/", views.reference_template_list, name="reference_template_list"),
    path(
        "templates/version/<int:version_pk>/",
        views.reference_template_list,
        name="reference_template_version_list",
    ),
    path(
        "templates/version/<int:version_pk>/<str:item_id>.docx",
        views.reference_template_version_download,
        {"fmt": "docx"},
        name="reference_template_version_docx",
    ),
    path(
        "templates/version/<int:version_pk>/<str:item_id>.pdf",
        views.reference_template_version_download,
        {"fmt": "pdf"},
        name="reference_template_version_pdf",
    ),
    path(
        "templates/<slug:code>/<str:item_id>.docx",
        views.reference_template_download,
        {"fmt": "docx"},
        name="reference_template_docx",
    ),
    path(
        "templates/<slug:code>/<str:item_id>.pdf",
        views.reference_template_download,
        {"fmt": "pdf"},
        name="reference_template_pdf",
    ),
]
