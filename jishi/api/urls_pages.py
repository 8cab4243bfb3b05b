from django.urls import path

from . import views

urlpatterns = [
    path("", views.token_page, name="api_tokens"),
    path("<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
