from django.urls import path

from matters import views

app_name = "matters"

urlpatterns = [
    path("", views.matter_list, name="list"),
    path("<uuid:pk>/", views.matter_detail, name="detail"),
    path("<uuid:pk>/documents/new/", views.document_upload, name="document_upload"),
    path("documents/<uuid:pk>/", views.document_detail, name="document_detail"),
    path("documents/<uuid:pk>/download/", views.document_download, name="document_download"),
]
