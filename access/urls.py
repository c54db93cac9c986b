from django.urls import path

from access import oversight_views, request_views, team_views, views

app_name = "access"

urlpatterns = [
    # Signing in and one's own account security.
    path("account/sign-in/", views.sign_in, name="login"),
    path("account/sign-in/verify/", views.verify, name="verify"),
    path("account/sign-in/enroll/", views.enroll, name="enroll"),
    path("account/sign-out/", views.sign_out, name="logout"),
    path("account/security/", views.security, name="security"),
    path("account/security/password/", views.change_password, name="change_password"),
    path("account/security/sessions/sign-out/", views.sign_out_other_sessions, name="sign_out_other_sessions"),
    path("account/security/backup-codes/", views.backup_codes, name="backup_codes"),
    path("account/security/backup-codes/new/", views.new_backup_codes, name="new_backup_codes"),
    # Asking for access, one's own grants, notifications (access.request_views).
    path("access/requests/", request_views.my_requests, name="my_requests"),
    path("access/requests/new/", request_views.request_new, name="request_new"),
    path("access/requests/<uuid:pk>/withdraw/", request_views.request_withdraw, name="request_withdraw"),
    path("access/mine/", request_views.my_access, name="my_access"),
    path("access/approvals/", request_views.approvals, name="approvals"),
    path("access/approvals/<uuid:pk>/approve/", request_views.request_approve, name="request_approve"),
    path("access/approvals/<uuid:pk>/deny/", request_views.request_deny, name="request_deny"),
    path("notifications/", request_views.notifications, name="notifications"),
    path("notifications/read/", request_views.notifications_read, name="notifications_read"),
    # The matter's team, managed by its partner (access.team_views).
    path("access/matters/<uuid:pk>/team/", team_views.team, name="team"),
    path(
        "access/matters/<uuid:pk>/team/people/<int:grant_id>/revoke/",
        team_views.revoke_user_grant,
        name="team_revoke_user",
    ),
    path(
        "access/matters/<uuid:pk>/team/groups/<int:grant_id>/revoke/",
        team_views.revoke_group_grant,
        name="team_revoke_group",
    ),
    # Who holds what, and why: administrators and the security officer (access.oversight_views).
    path("access/people/", oversight_views.people, name="people"),
    path("access/people/<int:user_id>/", oversight_views.person_access, name="person_access"),
    path("access/matters/<uuid:pk>/", oversight_views.matter_access, name="matter_access"),
]
