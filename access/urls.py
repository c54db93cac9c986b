from django.urls import path

from access import (
    break_glass_views,
    oversight_views,
    report_views,
    request_views,
    review_views,
    team_views,
    views,
    wall_views,
)

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
    # Ethical walls: the security officer and conflicts partners; the memo for those named (access.wall_views).
    path("access/walls/", wall_views.wall_list, name="wall_list"),
    path("access/walls/new/", wall_views.wall_new, name="wall_new"),
    path("access/walls/<uuid:pk>/", wall_views.wall_detail, name="wall_detail"),
    path("access/walls/<uuid:pk>/lift/", wall_views.wall_lift, name="wall_lift"),
    path("access/walls/<uuid:pk>/memo/", wall_views.wall_acknowledge, name="wall_acknowledge"),
    # Emergency access, and its review by the security officer (access.break_glass_views).
    path("access/emergency/", break_glass_views.break_glass_new, name="break_glass_new"),
    path("access/emergency/reviews/", break_glass_views.break_glass_reviews, name="break_glass_reviews"),
    path("access/emergency/<uuid:pk>/review/", break_glass_views.break_glass_review, name="break_glass_review"),
    # Recertification campaigns and stale access (access.review_views).
    path("access/reviews/", review_views.reviews, name="reviews"),
    path("access/reviews/<int:pk>/", review_views.review_detail, name="review_detail"),
    path("access/reviews/<int:pk>/close/", review_views.review_close, name="review_close"),
    path("access/reviews/items/<int:pk>/decide/", review_views.review_decide, name="review_decide"),
    path("access/stale/", review_views.stale_access, name="stale_access"),
    path("access/stale/revoke/", review_views.stale_revoke, name="stale_revoke"),
    # The security officer's reports (access.report_views).
    path("access/reports/matter-access/", report_views.report_matter_access, name="report_matter_access"),
    path("access/reports/transparency/", report_views.report_transparency, name="report_transparency"),
]
