"""台账 and 纪实专用笔记本 pages; included at ``documents/``."""

from django.urls import path

from . import views_register

urlpatterns = [
    path("register/", views_register.register_page, name="register"),
    path("register/export.xlsx", views_register.register_export, name="register_export"),
    path("batches/<int:pk>/notebook/", views_register.notebook_print, name="notebook_print"),
    path("batches/<int:pk>/notebook.pdf", views_register.notebook_pdf, name="notebook_pdf"),
]
