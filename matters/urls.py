from django.urls import path

from matters import intake_views, key_views, views

app_name = "matters"

urlpatterns = [
    path("", views.matter_list, name="list"),
    path("<uuid:pk>/", views.matter_detail, name="detail"),
    path("<uuid:pk>/documents/new/", views.document_upload, name="document_upload"),
    path("documents/<uuid:pk>/", views.document_detail, name="document_detail"),
    path("documents/<uuid:pk>/download/", views.document_download, name="document_download"),
    # Client keys: the security officer and administrators (matters.key_views).
    path("clients/keys/", key_views.client_keys, name="client_keys"),
    path("clients/<uuid:pk>/keys/", key_views.client_key_detail, name="client_key_detail"),
    path("clients/<uuid:pk>/legal-hold/", key_views.legal_hold_set, name="client_legal_hold_set"),
    path("clients/<uuid:pk>/legal-hold/lift/", key_views.legal_hold_lift, name="client_legal_hold_lift"),
    path("clients/<uuid:pk>/keys/rotate/", key_views.key_rotate, name="client_key_rotate"),
    path("clients/<uuid:pk>/shredding/", key_views.shred_request, name="client_shred_request"),
    path("clients/shreddings/<int:pk>/approve/", key_views.shred_approve, name="client_shred_approve"),
    path("clients/shreddings/<int:pk>/cancel/", key_views.shred_cancel, name="client_shred_cancel"),
    # Intake: a new matter, its conflict check and the conflicts partner's decision (matters.intake_views).
    path("intake/", intake_views.intake_new, name="intake_new"),
    path("intake/checks/", intake_views.conflict_queue, name="conflict_queue"),
    path("intake/checks/<uuid:pk>/", intake_views.conflict_detail, name="conflict_detail"),
    path("lateral/<int:user_id>/", intake_views.lateral_hire, name="lateral_hire"),
]
