from django.urls import path

from . import views

urlpatterns = [
    path("", views.ledger_page, name="ledger"),
    path("<str:fonds>/verify/", views.ledger_verify, name="ledger_verify"),
    path("<str:fonds>/witness/", views.ledger_witness, name="ledger_witness"),
]
