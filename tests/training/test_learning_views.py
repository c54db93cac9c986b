"""A member of staff's own training pages: what they owe (on their home page too), the course,
the quiz, the result, the certificate — and that none of it shows one person's record to another."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from access.models import GrantLevel
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import MatterFactory, answer_key, grant, make_course, make_policy_document
from training import services
from training.models import Attempt, Choice, Completion, CourseStatus, Question, QuestionKind, RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)
DUE = TODAY + timedelta(days=5)
LAPSED_AT = T0 + timedelta(days=6)  # the day after the due date


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(db):
    return make_course("Confidentiality duties", questions=2, title_zh="保密义务")


@pytest.fixture
def assigned(course, harriet, bob):
    """Bob owes the confidentiality course by DUE."""
    services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=DUE)
    return course


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def section(response, element_id: str) -> str:
    """The element with this id, up to the end of its section (enough to look inside it)."""
    page = text_of(response)
    start = page.find(f'id="{element_id}"')
    assert start >= 0, f"the page has no #{element_id}"
    end = page.find("</section>", start)
    return page[start : end if end > 0 else None]


def attempt_id_on(response) -> str:
    match = re.search(r'name="attempt" value="([0-9a-f-]{36})"', response.content.decode())
    assert match, "the quiz page carries no attempt"
    return match.group(1)


def answers_post(attempt_id: str, answers: dict[int, list[int]]) -> dict:
    data = {"attempt": attempt_id}
    for question_id, choice_ids in answers.items():
        data[f"q_{question_id}"] = [str(choice) for choice in choice_ids]
    return data


def take_quiz(client, course, *, wrong: int = 0):
    page = client.get(reverse("training:quiz", args=[course.pk]))
    assert page.status_code == 200
    return client.post(
        reverse("training:quiz", args=[course.pk]), answers_post(attempt_id_on(page), answer_key(course, wrong=wrong))
    )


def ticked(response) -> set[str]:
    """The choice ids the quiz page shows ticked."""
    return set(
        re.findall(r'<input type="(?:radio|checkbox)" name="q_\d+" value="(\d+)"[^>]*checked', text_of(response))
    )


# --- My training ---------------------------------------------------------------------------


def test_someone_with_nothing_to_do_is_told_so(client, charlie):
    response = signed_in(client, charlie).get(reverse("training:mine"))

    assert response.status_code == 200
    page = text_of(response)
    assert "Compliant" in section(response, "standing")
    assert "Nothing to complete" in page
    assert "You have not passed a course yet." in page
    assert "You have not signed an agreement" in page
    assert "You have not taken a quiz yet." in page


def test_bob_sees_what_he_owes_with_its_due_date_and_links(client, assigned, harriet, bob):
    document = make_policy_document("agreement", "Confidentiality agreement")
    version = services.publish_version(
        actor=harriet, document=document, text_en="I keep secrets.", text_zh="我保守秘密。", sign_by=DUE
    )

    owed = section(signed_in(client, bob).get(reverse("training:mine")), "owed")

    assert "Confidentiality duties" in owed
    assert "2026-03-07" in owed
    assert reverse("training:course", args=[assigned.pk]) in owed
    assert reverse("training:sign", args=[version.pk]) in owed
    assert "Read and sign" in owed


def test_a_lapsed_person_sees_why_and_the_way_back(client, assigned, bob, clock):
    clock.move_to(LAPSED_AT)
    response = signed_in(client, bob).get(reverse("training:mine"))

    standing = section(response, "standing")
    assert "Lapsed" in standing
    assert "“Confidentiality duties” is overdue" in standing
    assert f'href="{reverse("training:course", args=[assigned.pk])}"' in standing
    assert "Overdue" in section(response, "owed")


def test_after_passing_bob_finds_his_certificate_and_attempt(client, assigned, bob):
    client = signed_in(client, bob)
    take_quiz(client, assigned, wrong=1)
    take_quiz(client, assigned)
    completion = Completion.objects.get(user=bob)

    response = client.get(reverse("training:mine"))

    assert "Nothing to complete" in text_of(response)
    passed = section(response, "completions")
    assert completion.get_absolute_url() in passed
    assert "2027-03-02" in passed  # the pass expires after the course's 12 months
    attempts = section(response, "attempts")
    assert attempts.count("training/attempts/") == 2
    assert "Passed" in attempts and "Not passed" in attempts


# --- The panel on the home page ------------------------------------------------------------


def test_a_lawyer_s_home_page_shows_what_he_owes_at_the_top(client, assigned, bob):
    response = signed_in(client, bob).get(reverse("home"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("matters:list")
    panel = section(response, "my-training-panel")
    assert "Confidentiality duties" in panel
    assert "due 2026-03-07" in panel
    assert reverse("training:course", args=[assigned.pk]) in panel


def test_an_overdue_item_is_highlighted(client, assigned, bob, clock):
    clock.move_to(LAPSED_AT)
    panel = section(signed_in(client, bob).get(reverse("matters:list")), "my-training-panel")

    assert 'class="overdue"' in panel
    assert "Overdue: was due 2026-03-07" in panel


def test_hr_s_home_page_shows_the_panel_too(client, course, harriet):
    services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=harriet, due_on=DUE)

    response = signed_in(client, harriet).get(reverse("home"))

    assert response.status_code == 200
    assert "Confidentiality duties" in section(response, "my-training-panel")


def test_there_is_no_panel_when_there_is_nothing_to_do(client, assigned, bob, charlie):
    client = signed_in(client, bob)
    take_quiz(client, assigned)

    assert 'id="my-training-panel"' not in text_of(client.get(reverse("matters:list")))
    assert 'id="my-training-panel"' not in text_of(signed_in(client, charlie).get(reverse("matters:list")))


def test_the_panel_costs_one_query_however_much_is_owed(assigned, harriet, bob, django_assert_num_queries):
    for number in range(3):
        other = make_course(f"Course {number}")
        services.assign_course(actor=harriet, course=other, target=RuleTarget.PERSON, person=bob, due_on=DUE)
    document = make_policy_document("policy", "Information security policy")
    services.publish_version(actor=harriet, document=document, text_en="Lock", text_zh="锁", sign_by=DUE)
    request = RequestFactory().get("/")
    request.user = bob

    with django_assert_num_queries(1):
        rendered = Template("{% load training_tags %}{% my_training_panel %}").render(Context({"request": request}))

    assert rendered.count('id="to-do-') == 5
    assert "Information security policy" in rendered


# --- The course ----------------------------------------------------------------------------


def test_the_course_shows_its_material_files_own_status_and_the_quiz_button(client, assigned, harriet, bob):
    services.add_attachment(actor=harriet, course=assigned, upload=SimpleUploadedFile("slides.pdf", b"%PDF-1.4"))

    response = signed_in(client, bob).get(assigned.get_absolute_url())

    assert response.status_code == 200
    page = text_of(response)
    assert "<p>Keep client information confidential.</p>" in page  # the sanitized material, rendered
    assert "slides.pdf" in page
    assert "Assigned to you, due 2026-03-07." in page
    assert f'href="{reverse("training:quiz", args=[assigned.pk])}"' in page


def test_the_course_reads_in_chinese_when_the_interface_is_chinese(client, course, bob):
    course.material_zh = "<p>对客户信息保密。</p>"
    course.save()

    page = text_of(signed_in(client, bob).get(course.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans"))

    assert "保密义务" in page and "对客户信息保密。" in page


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.RETIRED])
def test_a_draft_or_retired_course_is_404_to_staff_and_a_preview_to_hr(client, bob, harriet, status):
    course = make_course("Unfinished", published=False)
    course.status = status
    course.save()

    assert signed_in(client, bob).get(course.get_absolute_url()).status_code == 404
    assert signed_in(client, bob).get(reverse("training:quiz", args=[course.pk])).status_code == 404
    preview = signed_in(client, harriet).get(course.get_absolute_url())
    assert preview.status_code == 200
    assert "Preview" in text_of(preview)
    assert 'id="quiz-button"' not in text_of(preview)


def test_a_course_that_does_not_exist_is_404(client, bob):
    assert signed_in(client, bob).get(reverse("training:course", args=[999999])).status_code == 404


def test_an_attachment_downloads_as_a_file_to_staff(client, course, harriet, charlie):
    attachment = services.add_attachment(
        actor=harriet, course=course, upload=SimpleUploadedFile("handout.pdf", b"%PDF-1.4 handout", "application/pdf")
    )

    response = signed_in(client, charlie).get(reverse("training:attachment", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "handout.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 handout"


def test_a_draft_course_s_attachment_is_hr_s_only(client, harriet, bob):
    course = make_course("Unfinished", published=False)
    attachment = services.add_attachment(actor=harriet, course=course, upload=SimpleUploadedFile("draft.txt", b"x"))
    url = reverse("training:attachment", args=[attachment.pk])

    assert signed_in(client, bob).get(url).status_code == 404
    assert signed_in(client, harriet).get(url).status_code == 200
    assert signed_in(client, bob).get(reverse("training:attachment", args=[999999])).status_code == 404


# --- The quiz ------------------------------------------------------------------------------


@pytest.fixture
def mixed_course(db):
    """One single-choice question and one multiple-choice question with two right answers."""
    course = make_course("Phishing", questions=1, passing_score=100)
    question = Question.objects.create(
        course=course,
        text="Which are signs of phishing?",
        text_zh="哪些是钓鱼迹象？",
        kind=QuestionKind.MULTIPLE,
        position=2,
    )
    for position, (text, right) in enumerate(
        [("A sender you do not know", True), ("Urgency", True), ("Your own firm's logo", False)], start=1
    ):
        Choice.objects.create(
            question=question, text=text, text_zh=f"选项{position}", is_correct=right, position=position
        )
    return course


def test_the_quiz_shows_radios_for_single_choice_and_checkboxes_for_multiple(client, mixed_course, bob):
    response = signed_in(client, bob).get(reverse("training:quiz", args=[mixed_course.pk]))

    page = text_of(response)
    single, multiple = list(mixed_course.questions.all())
    assert page.count(f'type="radio" name="q_{single.pk}"') == 2
    assert page.count(f'type="checkbox" name="q_{multiple.pk}"') == 3
    assert "Which are signs of phishing?" in page
    attempt = Attempt.objects.get(user=bob)
    assert attempt_id_on(response) == str(attempt.pk)
    assert attempt.submitted_at is None


def test_the_quiz_reads_in_chinese(client, mixed_course, bob):
    page = text_of(
        signed_in(client, bob).get(reverse("training:quiz", args=[mixed_course.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    )

    assert "哪些是钓鱼迹象？" in page and "选项2" in page


def test_reopening_the_quiz_reuses_the_unsubmitted_attempt(client, mixed_course, bob):
    client = signed_in(client, bob)
    first = attempt_id_on(client.get(reverse("training:quiz", args=[mixed_course.pk])))
    second = attempt_id_on(client.get(reverse("training:quiz", args=[mixed_course.pk])))

    assert first == second
    assert Attempt.objects.filter(user=bob).count() == 1


def test_passing_shows_the_score_and_the_certificate(client, assigned, bob):
    response = take_quiz(signed_in(client, bob), assigned)

    attempt = Attempt.objects.get(user=bob)
    assert response.status_code == 302
    assert response["Location"] == attempt.get_absolute_url()
    result = client.get(response["Location"])
    page = text_of(result)
    assert "Passed" in section(result, "result")
    assert "100%" in page and "80%" in page  # the score and the pass mark
    assert f'href="{Completion.objects.get(attempt=attempt).get_absolute_url()}"' in page
    assert 'id="try-again"' not in page


def test_failing_offers_another_try_without_giving_the_answers_away(client, mixed_course, bob):
    client = signed_in(client, bob)
    single, multiple = list(mixed_course.questions.prefetch_related("choices"))
    page = client.get(reverse("training:quiz", args=[mixed_course.pk]))
    right_single = [c.pk for c in single.choices.all() if c.is_correct]
    one_of_two = [c.pk for c in multiple.choices.all() if c.is_correct][:1]  # half right is wrong

    response = client.post(
        reverse("training:quiz", args=[mixed_course.pk]),
        answers_post(attempt_id_on(page), {single.pk: right_single, multiple.pk: one_of_two}),
    )

    result = client.get(response["Location"])
    page = text_of(result)
    assert "Not passed" in section(result, "result")
    assert "50%" in page and "100%" in page
    assert 'id="try-again"' in page
    assert not Completion.objects.filter(user=bob).exists()
    questions = section(result, "questions")
    assert re.search(r'class="right">Question 1\? — <strong>right', questions)
    assert re.search(r'class="wrong">Which are signs of phishing\? — <strong>wrong', questions)
    assert "A sender you do not know" not in page and "Urgency" not in page


def test_an_unanswered_question_is_named_and_the_other_answers_stay_ticked(client, mixed_course, bob):
    client = signed_in(client, bob)
    single, multiple = list(mixed_course.questions.prefetch_related("choices"))
    page = client.get(reverse("training:quiz", args=[mixed_course.pk]))
    chosen = [c.pk for c in multiple.choices.all()][:2]

    response = client.post(
        reverse("training:quiz", args=[mixed_course.pk]), answers_post(attempt_id_on(page), {multiple.pk: chosen})
    )

    assert response.status_code == 400
    assert "Answer every question before submitting." in text_of(response)
    assert "Answer this question." in section(response, f"question-{single.pk}")
    assert ticked(response) == {str(pk) for pk in chosen}
    assert Attempt.objects.get(user=bob).submitted_at is None


def test_an_answer_from_another_question_is_refused(client, mixed_course, bob):
    client = signed_in(client, bob)
    single, multiple = list(mixed_course.questions.prefetch_related("choices"))
    page = client.get(reverse("training:quiz", args=[mixed_course.pk]))
    foreign = [multiple.choices.first().pk]

    response = client.post(
        reverse("training:quiz", args=[mixed_course.pk]),
        answers_post(attempt_id_on(page), {single.pk: foreign, multiple.pk: [multiple.choices.first().pk]}),
    )

    assert response.status_code == 400
    assert "That answer is not one of this question's choices." in text_of(response)
    assert Attempt.objects.get(user=bob).submitted_at is None


def test_a_tampered_attempt_field_is_named_and_nothing_is_scored(client, course, bob):
    client = signed_in(client, bob)
    client.get(reverse("training:quiz", args=[course.pk]))

    response = client.post(reverse("training:quiz", args=[course.pk]), answers_post("not-a-uuid", answer_key(course)))

    assert response.status_code == 400
    assert "The quiz form was not recognised" in text_of(response)
    assert ticked(response) == {str(pk) for ids in answer_key(course).values() for pk in ids}
    assert not Attempt.objects.filter(submitted_at__isnull=False).exists()


def test_a_quiz_submitted_twice_is_refused_and_the_first_score_stands(client, course, bob):
    client = signed_in(client, bob)
    page = client.get(reverse("training:quiz", args=[course.pk]))
    attempt_id = attempt_id_on(page)
    failing = answers_post(attempt_id, answer_key(course, wrong=2))
    client.post(reverse("training:quiz", args=[course.pk]), failing)

    again = client.post(reverse("training:quiz", args=[course.pk]), answers_post(attempt_id, answer_key(course)))

    assert again.status_code == 200
    errors = section(again, "quiz-errors")
    assert "This quiz was already submitted: your score was 0%." in errors
    assert Attempt.objects.get(pk=attempt_id).get_absolute_url() in errors
    assert f'href="{reverse("training:quiz", args=[course.pk])}"' in errors  # a new attempt
    assert ticked(again) == {str(pk) for ids in answer_key(course).values() for pk in ids}
    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.score == 0 and attempt.passed is False
    assert not Completion.objects.filter(user=bob).exists()


def test_someone_else_s_attempt_cannot_be_submitted(client, course, bob, charlie):
    page = signed_in(client, bob).get(reverse("training:quiz", args=[course.pk]))
    bobs_attempt = attempt_id_on(page)

    response = signed_in(client, charlie).post(
        reverse("training:quiz", args=[course.pk]), answers_post(bobs_attempt, answer_key(course))
    )

    assert response.status_code == 404
    assert Attempt.objects.get(pk=bobs_attempt).submitted_at is None


# --- Results and certificates belong to their owner -------------------------------------------


@pytest.fixture
def bobs_pass(client, assigned, bob):
    take_quiz(signed_in(client, bob), assigned)
    client.logout()
    return Completion.objects.get(user=bob)


def test_the_certificate_names_the_person_course_score_validity_and_id(client, bobs_pass, bob):
    response = signed_in(client, bob).get(bobs_pass.get_absolute_url())

    assert response.status_code == 200
    certificate = text_of(response)
    assert "Bob Test" in certificate
    assert "Confidentiality duties" in certificate
    assert 'id="certificate-score">100%' in certificate
    assert "2026-03-02" in certificate  # passed on
    assert "2027-03-01" in certificate  # valid through the day before the pass expires
    assert str(bobs_pass.pk) in certificate


def test_a_pass_that_never_expires_says_so(client, harriet, bob):
    course = make_course("Incident reporting", recurrence_months=None)
    take_quiz(signed_in(client, bob), course)

    response = client.get(Completion.objects.get(user=bob).get_absolute_url())

    assert "does not expire" in section(response, "certificate")


@pytest.mark.parametrize("outsider", ["charlie", "alice", "adam", "root"])
def test_someone_else_s_attempt_and_certificate_are_404(client, request, bobs_pass, outsider):
    client = signed_in(client, request.getfixturevalue(outsider))

    assert client.get(bobs_pass.attempt.get_absolute_url()).status_code == 404
    assert client.get(bobs_pass.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("reader", ["harriet", "dana"])
def test_hr_and_the_security_officer_read_anyone_s_result_and_certificate(client, request, bobs_pass, reader):
    client = signed_in(client, request.getfixturevalue(reader))

    result = client.get(bobs_pass.attempt.get_absolute_url())
    assert result.status_code == 200
    assert "An attempt by Bob Test." in text_of(result)
    assert 'id="try-again"' not in text_of(result)
    assert client.get(bobs_pass.get_absolute_url()).status_code == 200


def test_an_attempt_or_certificate_that_does_not_exist_is_404(client, bob):
    client = signed_in(client, bob)
    assert client.get(reverse("training:attempt", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404
    assert client.get(reverse("training:certificate", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404


# --- The story: a lapsed lawyer passes and the confidential matter opens ------------------------


def test_after_passing_the_quiz_a_lapsed_lawyer_opens_the_confidential_matter(client, assigned, alice, bob, clock):
    matter = MatterFactory(classification=Classification.CONFIDENTIAL, title="Project Lantern")
    grant(bob, matter, GrantLevel.VIEW)
    clock.move_to(LAPSED_AT)
    client = signed_in(client, bob)

    refused = client.get(matter.get_absolute_url())
    assert refused.status_code == 403
    assert "“Confidentiality duties” is overdue" in text_of(refused)
    assert f'href="{assigned.get_absolute_url()}" id="remedy"' in refused.content.decode()

    take_quiz(client, assigned)

    opened = client.get(matter.get_absolute_url())
    assert opened.status_code == 200
    assert "Project Lantern" in text_of(opened)
