from django.urls import path

from . import views

urlpatterns = [
    path("", views.cadre_list, name="cadre_list"),
    path("<int:pk>/", views.cadre_detail, name="cadre_detail"),
    path("<int:pk>/lrmx/", views.cadre_lrmx_export, name="cadre_lrmx_export"),
    path("lrmx/import/", views.cadre_lrmx_import, name="cadre_lrmx_import"),
    path("lrmx/confirm/", views.cadre_lrmx_confirm, name="cadre_lrmx_confirm"),
]
