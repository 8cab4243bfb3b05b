"""账号管理、角色与安全管理、会话管理 and 安全审计 pages (三权分立), included at the site root."""

from django.urls import path

from jishi.audit import views as audit_views

from . import admin_views

urlpatterns = [
    path("admin/users/", admin_views.user_admin, name="user_admin"),
    path("admin/users/<int:pk>/disable/", admin_views.user_admin_disable, name="user_admin_disable"),
    path("admin/users/<int:pk>/enable/", admin_views.user_admin_enable, name="user_admin_enable"),
    path("admin/users/<int:pk>/password/", admin_views.user_admin_password, name="user_admin_password"),
    path("security/roles/", admin_views.role_admin, name="role_admin"),
    path("security/roles/<int:pk>/revoke/", admin_views.role_admin_revoke, name="role_admin_revoke"),
    path("security/users/<int:pk>/unlock/", admin_views.role_admin_unlock, name="role_admin_unlock"),
    path("security/users/<int:pk>/otp-reset/", admin_views.role_admin_otp_reset, name="role_admin_otp_reset"),
    path("security/sessions/", admin_views.session_admin, name="session_admin"),
    path("security/sessions/<int:pk>/end/", admin_views.session_admin_end, name="session_admin_end"),
    path("security/users/<int:pk>/sessions/end/", admin_views.session_admin_end_all, name="session_admin_end_all"),
    path("security/audit/", audit_views.audit_search, name="audit_search"),
    path("security/audit/export.csv", audit_views.audit_export, name="audit_export"),
]
