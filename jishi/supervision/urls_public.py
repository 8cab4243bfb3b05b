"""The public 任前公示 pages (no login); included by the project under the prefix ``public/``."""

from django.urls import path

from . import views_public as views

urlpatterns = [
    path("notices/", views.notice_list, name="public_notice_list"),
    path("notices/<str:slug>/", views.notice_detail, name="public_notice"),
    path("feedback/received/", views.feedback_received, name="public_feedback_received"),
]
