from django.urls import path

from access import views

app_name = "access"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/verify/", views.verify, name="verify"),
    path("sign-in/enroll/", views.enroll, name="enroll"),
    path("sign-out/", views.sign_out, name="logout"),
    path("security/", views.security, name="security"),
    path("security/password/", views.change_password, name="change_password"),
    path("security/sessions/sign-out/", views.sign_out_other_sessions, name="sign_out_other_sessions"),
    path("security/backup-codes/", views.backup_codes, name="backup_codes"),
    path("security/backup-codes/new/", views.new_backup_codes, name="new_backup_codes"),
]
