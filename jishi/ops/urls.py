"""Operations endpoints, included at the site root. ``/healthz`` has no login: monitoring has no account."""

from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # 404 unless JISHI_BENCH_VIEWS=true (the server bench/http_load.py starts).
    path("bench/trivial", views.bench_trivial, name="bench_trivial"),
]
