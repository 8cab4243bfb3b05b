from django.urls import path

from . import views_keypost

urlpatterns = [
    path("key-posts/", views_keypost.key_posts, name="key_posts"),
    path("key-posts/positions/<int:pk>/", views_keypost.key_post_flag, name="key_post_flag"),
    path("key-posts/nominations/<int:pk>/review/", views_keypost.key_post_review, name="key_post_review"),
]
