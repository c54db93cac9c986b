from django.urls import path

from audit import alert_views, views

app_name = "audit"

urlpatterns = [
    # The security officer's review of access events (audit.views).
    path("", views.events, name="events"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("people/<int:user_id>/", views.person_timeline, name="person_timeline"),
    path("matters/<uuid:matter_id>/", views.matter_timeline, name="matter_timeline"),
    path("export/", views.export, name="export"),
    path("chain/", views.chain_status, name="chain"),
    path("chain/verify/", views.verify, name="verify"),
    path("chain/checkpoints.jsonl", views.checkpoints_file, name="checkpoints_file"),
    path("chain/verifications/<int:pk>/", views.verification_detail, name="verification_detail"),
    # Alerts raised by the detection rules, and their thresholds (audit.alert_views).
    path("alerts/", alert_views.inbox, name="alerts"),
    path("alerts/<int:pk>/", alert_views.alert_detail, name="alert_detail"),
    path("detection/", alert_views.detection_settings, name="detection_settings"),
]
