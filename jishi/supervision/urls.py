from django.urls import path

from . import urls_calendar, urls_dashboard, urls_inbox, urls_keypost, views

# 台账核验 pages, included at ``ledger/``; the supervision pages are included at ``supervision/`` from urls_site.
urlpatterns = [
    path("", views.ledger_page, name="ledger"),
    path("<str:fonds>/verify/", views.ledger_verify, name="ledger_verify"),
    path("<str:fonds>/witness/", views.ledger_witness, name="ledger_witness"),
]

site_urlpatterns = [
    *urls_dashboard.urlpatterns,
    *urls_keypost.urlpatterns,
    *urls_calendar.urlpatterns,
    *urls_inbox.urlpatterns,
]
