"""公示期间反映 queue and the inbox; included by the project under the prefix ``supervision/``."""

from django.urls import path

from . import views_inbox as views

urlpatterns = [
    path("feedback/", views.feedback_queue, name="feedback_queue"),
    path("feedback/<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path("feedback/<int:pk>/verify/", views.feedback_verify, name="feedback_verify"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox_read"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
]
