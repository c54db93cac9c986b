from django.urls import path

from training import dashboard_views, document_views, learning_views, manage_views

app_name = "training"

urlpatterns = [
    # Everyone's own training, agreements and certificates (training.learning_views)
    path("", learning_views.my_training, name="mine"),
    path("courses/<int:pk>/", learning_views.course_detail, name="course"),
    path("courses/<int:pk>/quiz/", learning_views.quiz, name="quiz"),
    path("attachments/<int:pk>/", learning_views.attachment_download, name="attachment"),
    path("attempts/<uuid:pk>/", learning_views.attempt_detail, name="attempt"),
    path("certificates/<uuid:pk>/", learning_views.certificate, name="certificate"),
    # Reading and signing an agreement or policy version (training.document_views)
    path("documents/<uuid:pk>/", document_views.sign, name="sign"),
    # HR: courses, questions, attachments, assignments (training.manage_views)
    path("manage/courses/", manage_views.course_list, name="courses"),
    path("manage/courses/new/", manage_views.course_edit, name="course_new"),
    path("manage/courses/<int:pk>/edit/", manage_views.course_edit, name="course_edit"),
    path("manage/courses/<int:pk>/publish/", manage_views.course_publish, name="course_publish"),
    path("manage/courses/<int:pk>/retire/", manage_views.course_retire, name="course_retire"),
    path("manage/courses/<int:pk>/questions/new/", manage_views.question_edit, name="question_new"),
    path("manage/questions/<int:pk>/", manage_views.question_edit, name="question_edit"),
    path("manage/questions/<int:pk>/delete/", manage_views.question_delete, name="question_delete"),
    path("manage/courses/<int:pk>/attachments/", manage_views.attachment_add, name="attachment_add"),
    path("manage/attachments/<int:pk>/delete/", manage_views.attachment_remove, name="attachment_remove"),
    path("manage/courses/<int:pk>/assign/", manage_views.assign, name="assign"),
    path("manage/rules/<int:pk>/end/", manage_views.rule_end, name="rule_end"),
    # HR: agreements and policies (training.document_views)
    path("manage/documents/", document_views.document_list, name="documents"),
    path("manage/documents/new/", document_views.document_new, name="document_new"),
    path("manage/documents/<int:pk>/versions/new/", document_views.version_new, name="version_new"),
    # HR and the security officer: the dashboard, the export, people's records (training.dashboard_views)
    path("manage/", dashboard_views.dashboard, name="dashboard"),
    path("manage/export.csv", dashboard_views.export_csv, name="export"),
    path("manage/people/", dashboard_views.people, name="people"),
    path("people/<int:pk>/", dashboard_views.person_record, name="person"),
]
