"""The project's URLs plus the working-day calendar, as the lead will include it (prefix ``supervision/``)."""

from django.urls import include, path

from jishi.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("supervision/", include("jishi.supervision.urls_calendar")),
]
