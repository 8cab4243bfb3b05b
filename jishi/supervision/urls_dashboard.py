"""监督看板, warnings and 责任倒查; included by the project under the prefix ``supervision/``."""

from django.urls import path

from . import views_dashboard as views

urlpatterns = [
    path("", views.dashboard_page, name="supervision_dashboard"),
    path("warnings/", views.warning_list, name="warning_list"),
    path("warnings/<int:pk>/", views.warning_detail, name="warning_detail"),
    path("warnings/<int:pk>/explain/", views.warning_explain, name="warning_explain"),
    path("trace/nominations/<int:pk>/", views.trace_nomination, name="trace_nomination"),
    path("trace/nominations/<int:pk>/export.<str:fmt>", views.trace_nomination_export, name="trace_nomination_export"),
    path("trace/users/<int:pk>/", views.trace_user, name="trace_user"),
    path("trace/users/<int:pk>/export.<str:fmt>", views.trace_user_export, name="trace_user_export"),
    path("trace/warnings/<int:pk>/", views.trace_warning, name="trace_warning"),
    path("trace/warnings/<int:pk>/export.<str:fmt>", views.trace_warning_export, name="trace_warning_export"),
]
