from django.urls import path

from . import views

urlpatterns = [
    path("", views.procedure_list, name="procedure_list"),
    path("<int:pk>/", views.procedure_detail, name="procedure_detail"),
]
