"""HR's course pages: writing a course and its quiz, attachments, publishing and assigning.

Harriet (HR) runs the programme; everyone else — Bob the lawyer, Dana the security
officer, Adam the administrator, Root the superuser — finds no such pages (404).
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import Department, Role
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import UserFactory, make_course
from training import services
from training.models import (
    Assignment,
    AssignmentRule,
    Course,
    CourseAttachment,
    CourseStatus,
    Question,
    QuestionKind,
    RuleTarget,
)

MiB = 1024 * 1024
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run."


def pptx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in ("[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml"):
            archive.writestr(member, "<xml/>")
    return buffer.getvalue()


def visible_text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags).replace("\xa0", " "))


def in_days(days: int = 30) -> date:
    return timezone.localdate() + timedelta(days=days)


def later(days: int = 30) -> str:
    """The date as the form's date field takes it."""
    return in_days(days).isoformat()


def course_data(**overrides) -> dict:
    data = {
        "title": "Phishing recognition",
        "title_zh": "识别网络钓鱼",
        "material": "<h3>Spot the signs</h3><p>Check the <strong>sender</strong>.</p>",
        "material_zh": "<p>检查发件人。</p>",
        "passing_score": "80",
        "recurrence_months": "12",
        "required_from_classification": "",
    }
    data.update(overrides)
    return data


def question_data(text: str, answers: list[tuple[str, bool]], kind: str = QuestionKind.SINGLE) -> dict:
    data = {"text": text, "text_zh": "", "kind": kind}
    for index, (answer, correct) in enumerate(answers):
        data[f"answer_{index}_text"] = answer
        data[f"answer_{index}_text_zh"] = ""
        if correct:
            data[f"answer_{index}_correct"] = "on"
    return data


def stored_attachments(tmp_path) -> list:
    root = tmp_path / "training"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def hr(client, harriet):
    return signed_in(client, harriet)


@pytest.fixture
def team(bob, charlie):
    """A team (a group that is not a role) of Bob and Charlie."""
    group = Group.objects.create(name="Litigation team")
    group.user_set.add(bob, charlie)
    return group


# --- the whole story ------------------------------------------------------------------------


def test_harriet_writes_a_course_adds_a_question_publishes_and_assigns_it_to_a_team(hr, harriet, team, bob, charlie):
    response = hr.post(reverse("training:course_new"), course_data())
    course = Course.objects.get(title="Phishing recognition")
    assert response.status_code == 302
    assert response.url == reverse("training:course_edit", args=[course.pk])
    assert course.status == CourseStatus.DRAFT
    assert course.created_by == harriet

    response = hr.post(
        reverse("training:question_new", args=[course.pk]),
        question_data("Who can ask for your password?", [("Nobody", True), ("IT support", False), ("", False)]),
    )
    assert response.status_code == 302
    question = course.questions.get()
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [("Nobody", True), ("IT support", False)]

    response = hr.post(reverse("training:course_publish", args=[course.pk]), follow=True)
    course.refresh_from_db()
    assert course.status == CourseStatus.PUBLISHED
    assert "The course is published" in visible_text(response)

    response = hr.post(
        reverse("training:assign", args=[course.pk]),
        {"target": RuleTarget.GROUP, "group": team.pk, "due_on": later(30), "due_in_days": "14"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("training:course_edit", args=[course.pk])
    text = visible_text(response)
    assert "2 people were assigned the course now." in text
    assert "People who join later are assigned it when they join, with 14 days to complete it." in text
    assigned = Assignment.objects.current().filter(course=course)
    assert {a.user for a in assigned} == {bob, charlie}
    assert {a.due_on.isoformat() for a in assigned} == {later(30)}
    assert "Litigation team" in text  # the rule is listed on the course page

    # Gina joins the team later: she is assigned the course when she joins (training.signals).
    gina = UserFactory(username="gina", first_name="Gina", last_name="Test")
    gina.groups.add(team)
    assert Assignment.objects.current().filter(course=course, user=gina).exists()

    saves = AuditEvent.objects.filter(action=AuditAction.TRAINING_COURSE_SAVE, actor=harriet)
    assert saves.count() >= 3  # created, question added, published
    # One event per person assigned, and one for the assignment rule itself.
    assert AuditEvent.objects.filter(action=AuditAction.TRAINING_ASSIGN, actor=harriet).count() == 3


def test_the_course_list_shows_counts_without_a_query_per_course(hr, harriet, bob, charlie):
    first = make_course("Confidentiality duties", questions=3)
    services.assign_course(
        actor=harriet, course=first, target=RuleTarget.PERSON, person=bob, due_on=timezone.localdate()
    )
    services.assign_course(
        actor=harriet, course=first, target=RuleTarget.PERSON, person=charlie, due_on=timezone.localdate()
    )
    Assignment.objects.filter(user=bob, course=first).update(completed_at=timezone.now())

    with CaptureQueriesContext(connection) as one_course:
        response = hr.get(reverse("training:courses"))
    row = next(c for c in response.context["courses"] if c.pk == first.pk)
    assert (row.question_count, row.assigned_count, row.completed_count) == (3, 2, 1)
    assert "Every 12 months" in visible_text(response)

    for number in range(4):
        make_course(f"Course {number}", questions=2, recurrence_months=None, published=False)
    with CaptureQueriesContext(connection) as five_courses:
        response = hr.get(reverse("training:courses"))
    assert len(response.context["courses"]) == 5
    assert len(five_courses) == len(one_course)


# --- the course form ------------------------------------------------------------------------


def test_scripts_and_event_handlers_are_removed_from_the_material(hr):
    material = (
        '<p onclick="steal()">Read this</p><script>alert(document.cookie)</script>'
        '<a href="javascript:alert(1)">bad</a><a href="https://example.test/" onmouseover="x()">good</a>'
    )
    hr.post(reverse("training:course_new"), course_data(material=material, material_zh="<img src=x onerror=y()>"))

    course = Course.objects.get()
    for saved in (course.material, course.material_zh):
        assert "<script" not in saved
        assert "onclick" not in saved
        assert "onerror" not in saved
        assert "javascript:" not in saved
    assert "Read this" in course.material
    assert 'href="https://example.test/"' in course.material


def test_standing_requirements_are_saved_from_the_checkboxes(hr):
    data = course_data(
        required_roles=[Role.LAWYER, Role.PARTNER],
        required_departments=[Department.LITIGATION],
        required_from_classification=str(Classification.CONFIDENTIAL),
        onboarding="on",
    )
    response = hr.post(reverse("training:course_new"), data)

    assert response.status_code == 302
    course = Course.objects.get()
    assert sorted(course.required_roles) == [Role.LAWYER, Role.PARTNER]
    assert course.required_departments == [Department.LITIGATION]
    assert course.required_from_classification == Classification.CONFIDENTIAL
    assert course.onboarding
    standing = course.rules.filter(standing=True, ended_at__isnull=True)
    assert {rule.target for rule in standing} == {
        RuleTarget.ROLE,
        RuleTarget.DEPARTMENT,
        RuleTarget.CLASSIFICATION,
        RuleTarget.NEW_STAFF,
    }
    page = hr.get(reverse("training:course_edit", args=[course.pk]))
    assert "course requirement" in visible_text(page)


def test_the_vendor_role_is_not_offered_as_a_requirement(hr):
    response = hr.get(reverse("training:course_new"))

    offered = dict(response.context["form"].fields["required_roles"].choices)
    assert Role.LAWYER in offered
    assert Role.VENDOR not in offered


def test_a_new_version_is_counted_only_when_harriet_says_so(hr):
    course = make_course(published=False)
    assert "new_version" not in hr.get(reverse("training:course_new")).context["form"].fields

    hr.post(reverse("training:course_edit", args=[course.pk]), course_data(title="Confidentiality duties"))
    course.refresh_from_db()
    assert course.version == 1

    hr.post(
        reverse("training:course_edit", args=[course.pk]), course_data(title="Confidentiality duties", new_version="on")
    )
    course.refresh_from_db()
    assert course.version == 2


def test_a_course_form_with_faults_names_them_and_saves_nothing(hr):
    response = hr.post(reverse("training:course_new"), course_data(title="", passing_score="150"))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("title")
    assert form.has_error("passing_score")
    assert not Course.objects.exists()


def test_publishing_a_course_without_questions_is_refused_with_the_reason(hr):
    course = make_course(questions=0, published=False)

    response = hr.post(reverse("training:course_publish", args=[course.pk]), follow=True)

    assert response.status_code == 200
    assert "Add at least one quiz question before publishing the course." in visible_text(response)
    course.refresh_from_db()
    assert course.status == CourseStatus.DRAFT


def test_retiring_a_course_withdraws_its_open_assignments(hr, harriet, bob):
    course = make_course()
    services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=in_days())

    response = hr.post(reverse("training:course_retire", args=[course.pk]), follow=True)

    assert "The course is retired" in visible_text(response)
    course.refresh_from_db()
    assert course.status == CourseStatus.RETIRED
    assert not Assignment.objects.current().filter(course=course).exists()


def test_the_edit_page_shows_questions_attachments_and_the_editor(hr, harriet):
    course = make_course(questions=2, published=False)
    services.add_attachment(actor=harriet, course=course, upload=SimpleUploadedFile("slides.pdf", PDF))

    response = hr.get(reverse("training:course_edit", args=[course.pk]))

    text = visible_text(response)
    assert "Question 1?" in text
    assert "slides.pdf" in text
    body = response.content.decode()
    assert "data-richtext" in body  # the plain text area richtext.js enhances
    assert 'id="richtext-toolbar"' in body
    assert "js/richtext.js" in body
    assert "<script>" not in body  # no inline script (CSP)
    assert reverse("training:course_publish", args=[course.pk]) in body
    assert reverse("training:question_new", args=[course.pk]) in body


# --- questions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "answers", "message"),
    [
        (QuestionKind.SINGLE, [("Paris", True), ("Lyon", True)], "exactly one correct answer"),
        (QuestionKind.SINGLE, [("Paris", True)], "at least two answers"),
        (QuestionKind.MULTIPLE, [("Paris", False), ("Lyon", False)], "at least one answer as correct"),
    ],
)
def test_a_question_with_faulty_answers_is_refused_and_the_answers_are_kept(hr, kind, answers, message):
    course = make_course(questions=0, published=False)

    response = hr.post(reverse("training:question_new", args=[course.pk]), question_data("Capital?", answers, kind))

    assert response.status_code == 200
    assert message in visible_text(response)
    assert not Question.objects.filter(course=course).exists()
    assert 'value="Paris"' in response.content.decode()  # what Harriet typed is still there


def test_an_answer_in_chinese_only_is_named(hr):
    course = make_course(questions=0, published=False)
    data = question_data("Capital?", [("Beijing", True), ("Shanghai", False)])
    data["answer_2_text_zh"] = "广州"

    response = hr.post(reverse("training:question_new", args=[course.pk]), data)

    assert response.status_code == 200
    assert "Give this answer in English too." in visible_text(response)
    assert not Question.objects.filter(course=course).exists()


def test_a_multiple_choice_question_is_saved_with_its_correct_answers(hr):
    course = make_course(questions=0, published=False)
    data = question_data(
        "Which are confidential?", [("Client names", True), ("Our address", False), ("Fees", True)], "multiple"
    )
    data["text_zh"] = "哪些是保密的？"

    hr.post(reverse("training:question_new", args=[course.pk]), data)

    question = course.questions.get()
    assert question.kind == QuestionKind.MULTIPLE
    assert question.text_zh == "哪些是保密的？"
    assert [c.text for c in question.choices.filter(is_correct=True)] == ["Client names", "Fees"]


def test_editing_a_question_shows_its_answers_and_replaces_them(hr):
    course = make_course(questions=1, published=False)
    question = course.questions.get()
    page = hr.get(reverse("training:question_edit", args=[question.pk]))
    assert 'value="Right"' in page.content.decode()

    hr.post(
        reverse("training:question_edit", args=[question.pk]),
        question_data("Question 1, reworded?", [("Wrong", False), ("Right", True), ("Also wrong", False)]),
    )

    question.refresh_from_db()
    assert question.text == "Question 1, reworded?"
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [
        ("Wrong", False),
        ("Right", True),
        ("Also wrong", False),
    ]


def test_deleting_a_question(hr):
    course = make_course(questions=2, published=False)
    question = course.questions.first()

    response = hr.post(reverse("training:question_delete", args=[question.pk]))

    assert response.status_code == 302
    assert course.questions.count() == 1
    assert not Question.objects.filter(pk=question.pk).exists()


def test_deleting_by_get_is_not_allowed(hr):
    question = make_course(questions=1, published=False).questions.get()

    assert hr.get(reverse("training:question_delete", args=[question.pk])).status_code == 405
    assert Question.objects.filter(pk=question.pk).exists()


# --- attachments ----------------------------------------------------------------------------


def attach(client, course, name: str, content: bytes, **extra):
    return client.post(
        reverse("training:attachment_add", args=[course.pk]), {"file": SimpleUploadedFile(name, content)}, **extra
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("Handout.pdf", PDF, "application/pdf"),
        ("Slides.pptx", pptx(), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("notes.txt", "保密义务\n".encode(), "text/plain"),
    ],
)
def test_an_attachment_is_added_with_the_type_it_really_is(hr, tmp_path, name, content, content_type):
    course = make_course(published=False)

    response = attach(hr, course, name, content, follow=True)

    attachment = CourseAttachment.objects.get(course=course)
    assert attachment.name == name
    assert attachment.size == len(content)
    assert attachment.content_type == content_type  # ours, not the browser's
    assert f"{name} was attached." in visible_text(response)
    assert len(stored_attachments(tmp_path)) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf", EXE, "The file's content does not match its .pdf extension."),
        ("setup.exe", EXE, ".exe files cannot be attached."),
        ("people.csv", b"name,email\n", ".csv files cannot be attached."),  # a document type, not course material
        ("README", b"plain words\n", "Files without an extension cannot be attached."),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
)
def test_a_refused_attachment_is_named_and_nothing_is_written(hr, tmp_path, name, content, message):
    course = make_course(published=False)

    response = attach(hr, course, name, content)

    assert response.status_code == 400
    assert message in visible_text(response)
    assert not CourseAttachment.objects.exists()
    assert stored_attachments(tmp_path) == []


def test_an_attachment_over_the_limit_is_refused_with_the_limit_named(hr, tmp_path, settings):
    settings.TRAINING_ATTACHMENT_MAX_BYTES = 1 * MiB
    course = make_course(published=False)

    response = attach(hr, course, "big.pdf", PDF + b"0" * MiB)

    assert response.status_code == 400
    assert "The file is larger than the 1.0 MB limit." in visible_text(response)
    assert not CourseAttachment.objects.exists()
    assert stored_attachments(tmp_path) == []


def test_an_attachment_exactly_at_the_limit_is_accepted(hr, settings):
    settings.TRAINING_ATTACHMENT_MAX_BYTES = 1 * MiB
    course = make_course(published=False)

    response = attach(hr, course, "limit.pdf", PDF + b"0" * (MiB - len(PDF)))

    assert response.status_code == 302
    assert CourseAttachment.objects.get().size == MiB


def test_a_body_far_over_the_limit_is_refused_on_its_declared_length(hr, tmp_path, settings):
    settings.TRAINING_ATTACHMENT_MAX_BYTES = 1 * MiB
    course = make_course(published=False)

    response = attach(hr, course, "huge.pdf", PDF + b"0" * (2 * MiB))

    assert response.status_code == 413
    assert "The file is larger than the 1.0 MB limit." in visible_text(response)
    assert not CourseAttachment.objects.exists()
    assert stored_attachments(tmp_path) == []


def test_course_files_are_held_to_the_training_limit_not_the_documents_one(hr, tmp_path, settings):
    # The upload guard (matters.middleware) drops files past the limit of the URL they are sent to.
    settings.TRAINING_ATTACHMENT_MAX_BYTES = 5 * MiB
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1 * MiB
    course = make_course(published=False)

    response = attach(hr, course, "deck.pdf", PDF + b"0" * (2 * MiB))

    assert response.status_code == 302
    assert CourseAttachment.objects.get().size == len(PDF) + 2 * MiB


def test_removing_an_attachment_deletes_its_file(hr, harriet, tmp_path, django_capture_on_commit_callbacks):
    course = make_course(published=False)
    attachment = services.add_attachment(actor=harriet, course=course, upload=SimpleUploadedFile("a.pdf", PDF))
    assert len(stored_attachments(tmp_path)) == 1

    # The file goes once the removal has committed (a rollback keeps row and file).
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(reverse("training:attachment_remove", args=[attachment.pk]), follow=True)

    assert "a.pdf was removed." in visible_text(response)
    assert not CourseAttachment.objects.exists()
    assert stored_attachments(tmp_path) == []


# --- assigning ------------------------------------------------------------------------------


def test_an_assignment_without_a_due_date_is_refused_and_nothing_is_created(hr, team):
    course = make_course()

    response = hr.post(
        reverse("training:assign", args=[course.pk]), {"target": RuleTarget.GROUP, "group": team.pk, "due_in_days": 14}
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("due_on")
    assert "Give a due date" in visible_text(response)
    assert not AssignmentRule.objects.filter(standing=False).exists()
    assert not Assignment.objects.exists()


def test_a_due_date_in_the_past_is_refused(hr, team):
    course = make_course()
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = hr.post(
        reverse("training:assign", args=[course.pk]),
        {"target": RuleTarget.GROUP, "group": team.pk, "due_on": yesterday, "due_in_days": 14},
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("due_on")
    assert not Assignment.objects.exists()


def test_all_new_staff_need_no_due_date(hr, bob):
    course = make_course()

    response = hr.post(
        reverse("training:assign", args=[course.pk]), {"target": RuleTarget.NEW_STAFF, "due_in_days": 10}, follow=True
    )

    assert "0 people were assigned the course now." in visible_text(response)
    rule = AssignmentRule.objects.get(course=course, standing=False)
    assert (rule.target, rule.due_on, rule.due_in_days) == (RuleTarget.NEW_STAFF, None, 10)
    newcomer = UserFactory(username="nina")
    assignment = Assignment.objects.get(course=course, user=newcomer)
    assert assignment.due_on == timezone.localdate() + timedelta(days=10)
    assert not Assignment.objects.filter(course=course, user=bob).exists()


def test_assigning_a_person(hr, bob):
    course = make_course()

    response = hr.post(
        reverse("training:assign", args=[course.pk]),
        {"target": RuleTarget.PERSON, "person": bob.pk, "due_on": later(7), "due_in_days": 14},
        follow=True,
    )

    assert "Bob Test was assigned the course" in visible_text(response)
    assert Assignment.objects.current().get(course=course).user == bob


def test_the_target_must_be_chosen(hr):
    course = make_course()

    response = hr.post(
        reverse("training:assign", args=[course.pk]),
        {"target": RuleTarget.DEPARTMENT, "department": "", "due_on": later(), "due_in_days": 14},
    )

    assert response.context["form"].has_error("department")
    assert not Assignment.objects.exists()


def test_roles_and_classifications_are_not_offered_on_the_assign_form(hr, team):
    course = make_course()

    form = hr.get(reverse("training:assign", args=[course.pk])).context["form"]

    targets = {value for value, _label in form.fields["target"].choices}
    assert targets == {RuleTarget.PERSON, RuleTarget.GROUP, RuleTarget.DEPARTMENT, RuleTarget.ALL_STAFF, "new_staff"}
    groups = {group.name for group in form.fields["group"].queryset}
    assert groups == {"Litigation team"}  # not the role groups (hr, lawyer, …)


def test_an_unpublished_course_cannot_be_assigned(hr, team):
    course = make_course(published=False)
    page = hr.get(reverse("training:assign", args=[course.pk]))
    assert "publish it before assigning it" in visible_text(page)

    response = hr.post(
        reverse("training:assign", args=[course.pk]),
        {"target": RuleTarget.GROUP, "group": team.pk, "due_on": later(), "due_in_days": 14},
    )

    assert response.status_code == 200
    assert "Publish the course before assigning it." in visible_text(response)
    assert not AssignmentRule.objects.exists()
    assert not Assignment.objects.exists()


def test_stopping_a_rule_keeps_what_was_assigned_and_skips_later_joiners(hr, harriet, team, bob):
    course = make_course()
    rule, _made = services.assign_course(
        actor=harriet, course=course, target=RuleTarget.GROUP, group=team, due_on=in_days()
    )

    response = hr.post(reverse("training:rule_end", args=[rule.pk]), follow=True)

    assert "no longer assigned the course" in visible_text(response)
    rule.refresh_from_db()
    assert rule.ended_at is not None
    assert Assignment.objects.current().filter(course=course, user=bob).exists()
    gina = UserFactory(username="gina")
    gina.groups.add(team)
    assert not Assignment.objects.filter(course=course, user=gina).exists()


def test_a_standing_rule_is_changed_on_the_course_form_not_ended(hr):
    course = make_course(required_roles=[Role.LAWYER])
    services.save_course(actor=UserFactory(username="hr2", roles=[Role.HR]), course=course)
    rule = course.rules.get(standing=True)

    response = hr.post(reverse("training:rule_end", args=[rule.pk]), follow=True)

    assert "change them on the course form" in visible_text(response)
    rule.refresh_from_db()
    assert rule.ended_at is None


# --- nobody else ----------------------------------------------------------------------------


@pytest.fixture
def objects(harriet):
    """One of everything a manage URL can name."""
    course = make_course(published=False)
    published = make_course("Published course")
    rule, _made = services.assign_course(
        actor=harriet, course=published, target=RuleTarget.ALL_STAFF, due_on=timezone.localdate()
    )
    attachment = services.add_attachment(actor=harriet, course=course, upload=SimpleUploadedFile("a.pdf", PDF))
    return {"course": course, "question": course.questions.first(), "rule": rule, "attachment": attachment}


def manage_pages(objects) -> list[str]:
    course, question = objects["course"].pk, objects["question"].pk
    return [
        reverse("training:courses"),
        reverse("training:course_new"),
        reverse("training:course_edit", args=[course]),
        reverse("training:question_new", args=[course]),
        reverse("training:question_edit", args=[question]),
        reverse("training:assign", args=[course]),
    ]


def manage_actions(objects) -> list[str]:
    course = objects["course"].pk
    return [
        reverse("training:course_publish", args=[course]),
        reverse("training:course_retire", args=[course]),
        reverse("training:question_delete", args=[objects["question"].pk]),
        reverse("training:attachment_add", args=[course]),
        reverse("training:attachment_remove", args=[objects["attachment"].pk]),
        reverse("training:rule_end", args=[objects["rule"].pk]),
    ]


@pytest.mark.parametrize("persona", ["bob", "dana", "adam", "root"])
def test_nobody_but_hr_finds_the_course_pages(request, client, objects, persona):
    user = request.getfixturevalue(persona)
    signed_in(client, user)
    payload = {
        **course_data(title="Hijacked"),
        **question_data("Hijacked?", [("a", True), ("b", False)]),
        "target": RuleTarget.ALL_STAFF,
        "due_on": later(),
        "due_in_days": 14,
        "file": SimpleUploadedFile("x.pdf", PDF),
    }

    urls = manage_pages(objects) + manage_actions(objects)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, f"{persona} GET {url} answered {response.status_code}"
    for url in urls:
        payload["file"].seek(0)
        response = client.post(url, payload)
        assert response.status_code == 404, f"{persona} POST {url} answered {response.status_code}"

    course = Course.objects.get(pk=objects["course"].pk)
    assert (course.title, course.status) == ("Confidentiality duties", CourseStatus.DRAFT)
    assert not Course.objects.filter(title="Hijacked").exists()
    assert Question.objects.filter(pk=objects["question"].pk).exists()
    assert CourseAttachment.objects.count() == 1
    assert AssignmentRule.objects.get(pk=objects["rule"].pk).ended_at is None


def test_harriet_reaches_every_course_page_and_actions_take_only_post(hr, objects):
    for url in manage_pages(objects):
        assert hr.get(url).status_code == 200, url
    for url in manage_actions(objects):
        assert hr.get(url).status_code == 405, url


def test_the_course_pages_render_in_chinese(hr, harriet, settings):
    course = make_course(title="Confidentiality duties", title_zh="保密义务")
    services.assign_course(actor=harriet, course=course, target=RuleTarget.ALL_STAFF, due_on=in_days())
    hr.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    for url in (
        reverse("training:courses"),
        reverse("training:course_edit", args=[course.pk]),
        reverse("training:assign", args=[course.pk]),
    ):
        response = hr.get(url)
        assert response.status_code == 200, url
        assert "保密义务" in response.content.decode(), url
