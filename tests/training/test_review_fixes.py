"""What a review of the training app found, each now held by a test: a notice lost between
marking and sending, a new version forgiving people already overdue, a rehired person never
asked to sign again, a published course emptied of questions, past attempts re-judged after a
typo fix, a second click on "sign", a retired course published again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from access.models import Notification, NotificationKind, Role
from tests.conftest import signed_in
from tests.factories import answer_key, make_course, make_policy_document
from training import jobs, services
from training.compliance import first_lapsed
from training.models import Assignment, Attempt, CourseStatus, Question, Reminder, RuleTarget, Signature

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def publish(harriet, document, sign_by, text="I keep the firm's secrets."):
    return services.publish_version(
        actor=harriet, document=document, text_en=text, text_zh="我保守秘密。", sign_by=sign_by
    )


def test_a_reminder_whose_notice_failed_is_sent_by_the_retry(harriet, bob):
    course = make_course()
    services.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY + timedelta(days=20)
    )
    day = TODAY + timedelta(days=14)

    with mock.patch("training.jobs.notify_many", side_effect=OSError("mail queue down")), pytest.raises(OSError):
        jobs.send_reminders(day)
    assert not Reminder.objects.filter(stage="due_14").exists()

    assert jobs.send_reminders(day) == 1
    assert Notification.objects.filter(recipient=bob, kind=NotificationKind.TRAINING_REMINDER).count() == 1


def test_a_lapse_whose_notice_failed_is_recorded_and_sent_by_the_retry(harriet, bob, alice):
    bob.manager = alice
    bob.save()
    course = make_course()
    services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY)
    day = TODAY + timedelta(days=1)

    with mock.patch("training.jobs.notify_many", side_effect=OSError("mail queue down")), pytest.raises(OSError):
        jobs.record_lapses(day)

    assert jobs.record_lapses(day) == {"lapsed": 1, "escalated": 1}
    assert Notification.objects.filter(recipient=bob, kind=NotificationKind.TRAINING_OVERDUE).count() == 1
    assert Notification.objects.filter(recipient=alice, kind=NotificationKind.TRAINING_ESCALATION).count() == 1


def test_a_new_version_does_not_forgive_people_already_overdue_on_the_old_one(harriet, bob, charlie, clock):
    document = make_policy_document()
    publish(harriet, document, TODAY + timedelta(days=7))
    services.sign_version(user=charlie, version=document.current_version(), typed_name="Charlie Test",
                          confirmed=True, language="en")  # fmt: skip
    clock.move_to(T0 + timedelta(days=40))
    assert first_lapsed(bob) is not None

    second = publish(harriet, document, TODAY + timedelta(days=100), text="Version two.")

    still = first_lapsed(bob)
    assert still is not None and still.version == second
    assert still.good_through == TODAY + timedelta(days=7)  # overdue since the first version's date
    assert first_lapsed(charlie) is None  # who signed before has the new period to sign again
    assert Assignment.objects.get(user=charlie, version=second).due_on == TODAY + timedelta(days=100)


def test_someone_made_a_vendor_and_back_is_asked_to_sign_again(harriet, bob, clock):
    document = make_policy_document()
    version = publish(harriet, document, TODAY + timedelta(days=7))
    vendors, _created = Group.objects.get_or_create(name=Role.VENDOR.value)

    bob.groups.add(vendors)
    assert not Assignment.objects.current().filter(user=bob).exists()
    bob.groups.remove(vendors)

    row = Assignment.objects.current().get(user=bob, version=version)
    assert row.completed_at is None
    clock.move_to(T0 + timedelta(days=40))
    assert first_lapsed(bob) == row


def test_the_last_question_of_a_published_course_cannot_be_deleted(client, harriet):
    course = make_course(questions=1)
    question = course.questions.get()

    with pytest.raises(ValidationError):
        services.delete_question(actor=harriet, question=question)

    response = signed_in(client, harriet).post(reverse("training:question_delete", args=[question.pk]), follow=True)
    assert response.status_code == 200
    assert "needs at least one question" in response.content.decode()
    assert Question.objects.filter(pk=question.pk).exists()


def test_a_quiz_with_no_questions_left_is_an_error_not_a_crash(client, harriet, bob):
    course = make_course(questions=1, published=False)
    attempt = Attempt.objects.create(user=bob, course=course, course_version=course.version)
    course.questions.all().delete()
    course.status = CourseStatus.PUBLISHED
    course.save()

    with pytest.raises(ValidationError):
        services.submit_attempt(user=bob, attempt_id=attempt.pk, answers={})


def test_fixing_a_typo_in_an_answer_keeps_past_attempts_right(harriet, bob):
    course = make_course(questions=1)
    attempt = services.submit_attempt(
        user=bob, attempt_id=services.start_attempt(user=bob, course=course).pk, answers=answer_key(course)
    )
    question = course.questions.get()
    choices = [
        {"text": c.text + " (edited)", "text_zh": "", "is_correct": c.is_correct} for c in question.choices.all()
    ]

    services.save_question(actor=harriet, question=question, choices=choices)

    right = {c.pk for c in question.choices.all() if c.is_correct}
    assert {int(pk) for pk in attempt.answers[str(question.pk)]} == right


def test_a_second_click_on_sign_gets_the_already_signed_message(harriet, bob):
    version = publish(harriet, make_policy_document(), TODAY + timedelta(days=7))
    services.sign_version(user=bob, version=version, typed_name="Bob Test", confirmed=True, language="en")

    with pytest.raises(ValidationError, match="already signed"):
        services.sign_version(user=bob, version=version, typed_name="Bob Test", confirmed=True, language="en")
    assert Signature.objects.filter(user=bob).count() == 1


def test_a_retired_course_is_not_published_again(harriet):
    course = make_course()
    services.retire_course(actor=harriet, course=course)

    with pytest.raises(ValidationError, match="retired"):
        services.publish_course(actor=harriet, course=course)
