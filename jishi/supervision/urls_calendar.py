"""工作日历; included by the project under the prefix ``supervision/``."""

from django.urls import path

from . import views_calendar as views

urlpatterns = [
    path("calendar/", views.work_calendar_page, name="work_calendar"),
    path("calendar/overrides/", views.work_calendar_override, name="work_calendar_override"),
    path("calendar/overrides/remove/", views.work_calendar_override_remove, name="work_calendar_override_remove"),
]
