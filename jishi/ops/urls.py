"""Operations endpoints, included at the site root. ``/healthz`` has no login: monitoring has no account."""

from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
