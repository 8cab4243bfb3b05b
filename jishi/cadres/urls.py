from django.urls import path

from . import views

urlpatterns = [
    path("", views.cadre_list, name="cadre_list"),
    path("<int:pk>/", views.cadre_detail, name="cadre_detail"),
]
