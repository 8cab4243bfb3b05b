from django.urls import path

from . import urls_register, urls_templates, views

urlpatterns = [
    *urls_templates.urlpatterns,
    *urls_register.urlpatterns,
    path("nominations/<int:pk>/report/", views.report_form_page, name="report_form"),
    path("nominations/<int:pk>/report.pdf", views.report_form_pdf, name="report_form_pdf"),
    path("nominations/<int:pk>/approval.pdf", views.approval_form_pdf, name="approval_form_pdf"),
    path("cadres/<int:pk>/approval.pdf", views.cadre_approval_form_pdf, name="cadre_approval_form_pdf"),
]
