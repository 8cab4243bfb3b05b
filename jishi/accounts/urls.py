from django.contrib.auth.views import LogoutView
from django.urls import path

from . import auth_views, views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("account/otp/", auth_views.otp_verify, name="otp_verify"),
    path("account/otp/setup/", auth_views.otp_setup, name="otp_setup"),
    path("account/password/", auth_views.password_change_view, name="password_change"),
    path("account/signing/", views.signing_page, name="signing"),
    path("account/signing/<str:action>/", views.signing_action, name="signing_action"),
    path("admin/signing/", views.signing_admin, name="signing_admin"),
    path("admin/signing/<int:pk>/<str:action>/", views.signing_admin_action, name="signing_admin_action"),
]
