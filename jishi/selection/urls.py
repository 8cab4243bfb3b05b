from django.urls import path

from . import views, views_steps

urlpatterns = [
    path("", views.todo, name="home"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/nominations/add/", views.nomination_add, name="nomination_add"),
    path("nominations/<int:pk>/", views.nomination_detail, name="nomination_detail"),
    path("nominations/<int:pk>/drop/", views.nomination_drop, name="nomination_drop"),
    path("batches/<int:pk>/steps/<str:step_id>/", views_steps.step_page, name="step_batch"),
    path("nominations/<int:nomination_pk>/steps/<str:step_id>/", views_steps.step_page, name="step_nomination"),
    path("batches/<int:pk>/steps/<str:step_id>/start/", views_steps.step_start, name="step_start_batch"),
    path(
        "nominations/<int:nomination_pk>/steps/<str:step_id>/start/",
        views_steps.step_start,
        name="step_start_nomination",
    ),
    path("batches/<int:pk>/steps/<str:step_id>/waive/", views_steps.step_waive, name="step_waive_batch"),
    path(
        "nominations/<int:nomination_pk>/steps/<str:step_id>/waive/",
        views_steps.step_waive,
        name="step_waive_nomination",
    ),
    path("records/<int:pk>/save/", views_steps.record_save, name="record_save"),
    path("records/<int:pk>/tally/", views_steps.record_tally, name="record_tally"),
    path("records/<int:pk>/notebook/", views_steps.record_notebook, name="record_notebook"),
    path("records/<int:pk>/materials/", views_steps.record_material, name="record_material"),
    path("records/<int:pk>/confirm/", views_steps.record_confirm, name="record_confirm"),
    path("records/<int:pk>/complete/", views_steps.record_complete, name="record_complete"),
    path("materials/<int:pk>/download/", views_steps.material_download, name="material_download"),
    path("records/<int:pk>/correct/", views_steps.record_correct, name="record_correct"),
]
