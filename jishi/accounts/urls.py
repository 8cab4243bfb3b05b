from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/signing/", views.signing_page, name="signing"),
    path("account/signing/<str:action>/", views.signing_action, name="signing_action"),
    path("admin/signing/", views.signing_admin, name="signing_admin"),
    path("admin/signing/<int:pk>/<str:action>/", views.signing_admin_action, name="signing_admin_action"),
]
