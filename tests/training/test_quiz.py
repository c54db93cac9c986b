"""Taking a course's quiz: scoring (multiple choice all or nothing), pass or fail at the
passing score, every attempt kept, and the ways a submission is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404

from access.models import Role
from audit.actions import AuditAction
from audit.models import AuditEvent
from tests.factories import answer_key, make_course
from training import services
from training.models import Assignment, Attempt, Choice, Completion, Question, QuestionKind, RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(db):
    """Five single-choice questions; 80% to pass; a pass lasts twelve months."""
    return make_course("Confidentiality duties", questions=5, passing_score=80)


def take(user, course, answers):
    attempt = services.start_attempt(user=user, course=course)
    return services.submit_attempt(user=user, attempt_id=attempt.pk, answers=answers)


def add_multiple_choice(course) -> Question:
    """Which of these are client information? (a) and (b), not (c)."""
    question = Question.objects.create(course=course, text="Which are client information?", kind=QuestionKind.MULTIPLE)
    for position, (text, right) in enumerate([("Their name", True), ("Their file", True), ("The weather", False)]):
        Choice.objects.create(question=question, text=text, is_correct=right, position=position)
    return question


def choices_of(question) -> dict[str, int]:
    return {choice.text: choice.pk for choice in question.choices.all()}


# --- scoring -----------------------------------------------------------------------------------------


def test_all_right_passes_and_completes_the_assignment(course, harriet, bob):
    services.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY + timedelta(days=20)
    )

    attempt = take(bob, course, answer_key(course))

    assert (attempt.correct, attempt.total, attempt.score, attempt.passed) == (5, 5, 100, True)
    completion = Completion.objects.get(user=bob, course=course)
    assert completion.attempt == attempt
    assert completion.score == 100
    assert completion.course_version == course.version
    assignment = Assignment.objects.get(user=bob, course=course)
    assert assignment.completion == completion
    assert assignment.completed_at == attempt.submitted_at


@pytest.mark.parametrize(
    ("passing_score", "wrong", "score", "passed"),
    [
        (80, 0, 100, True),
        (80, 1, 80, True),  # exactly the passing score passes
        (80, 2, 60, False),
        (81, 1, 80, False),  # one point short fails
        (60, 2, 60, True),
        (100, 1, 80, False),
        (1, 5, 0, False),
    ],
)
def test_the_score_is_the_share_of_right_answers_and_passes_from_the_passing_score(
    bob, passing_score, wrong, score, passed
):
    course = make_course("Phishing", questions=5, passing_score=passing_score)

    attempt = take(bob, course, answer_key(course, wrong=wrong))

    assert attempt.score == score
    assert attempt.correct == 5 - wrong
    assert attempt.passed is passed
    assert Completion.objects.filter(user=bob, course=course).exists() is passed


def test_a_score_is_rounded_down_never_up(bob):
    course = make_course("Three questions", questions=3, passing_score=67)

    attempt = take(bob, course, answer_key(course, wrong=1))

    assert attempt.score == 66  # 2 of 3 is 66.7%: not quite the 67% asked
    assert attempt.passed is False


@pytest.mark.parametrize(
    ("ticked", "right"),
    [
        (["Their name", "Their file"], True),
        (["Their name"], False),  # partly right is wrong
        (["Their file"], False),
        (["Their name", "Their file", "The weather"], False),  # one too many is wrong
        (["The weather"], False),
    ],
)
def test_a_multiple_choice_question_is_right_only_with_exactly_the_right_answers(bob, ticked, right):
    course = make_course("Client information", questions=1, passing_score=100)
    question = add_multiple_choice(course)
    answers = answer_key(course)
    answers[question.pk] = [choices_of(question)[text] for text in ticked]

    attempt = take(bob, course, answers)

    assert attempt.total == 2
    assert attempt.correct == (2 if right else 1)
    assert attempt.passed is right


def test_a_choice_from_another_question_is_wrong(bob, course):
    answers = answer_key(course)
    first, second = list(answers)[:2]
    answers[first] = answers[second]  # the right answer, but to the other question

    attempt = take(bob, course, answers)

    assert attempt.correct == 4


def test_ids_given_as_text_are_read_as_ids(bob, course):
    answers = {str(question): [str(choice) for choice in choices] for question, choices in answer_key(course).items()}

    attempt = take(bob, course, answers)

    assert attempt.passed
    assert attempt.answers == {str(q): sorted(c) for q, c in answer_key(course).items()}


def test_a_pass_is_good_until_the_day_before_it_expires(bob, course):
    take(bob, course, answer_key(course))

    completion = Completion.objects.get(user=bob)
    assert completion.expires_on == date(2027, 3, 2)


def test_a_course_without_recurrence_never_expires(harriet, bob):
    course = make_course("Once only", recurrence_months=None)
    services.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY + timedelta(days=20)
    )

    take(bob, course, answer_key(course))

    assert Completion.objects.get(user=bob).expires_on is None
    assert Assignment.objects.get(user=bob).good_through is None


# --- every attempt recorded ----------------------------------------------------------------------------


def test_every_attempt_is_recorded_and_a_fail_can_be_followed_by_a_pass(bob, course, clock):
    failed = take(bob, course, answer_key(course, wrong=3))
    clock.shift(timedelta(minutes=5))
    passed = take(bob, course, answer_key(course))

    assert failed.pk != passed.pk
    attempts = Attempt.objects.filter(user=bob, course=course).order_by("started_at")
    assert [(a.score, a.passed) for a in attempts] == [(40, False), (100, True)]
    assert all(a.submitted_at is not None for a in attempts)
    assert Completion.objects.filter(user=bob).count() == 1
    events = AuditEvent.objects.filter(action=AuditAction.TRAINING_ATTEMPT, actor=bob).order_by("pk")
    assert [(e.record["detail"]["score"], e.record["detail"]["passed"]) for e in events] == [(40, False), (100, True)]


def test_an_open_attempt_is_reused_until_it_is_submitted(bob, course):
    first = services.start_attempt(user=bob, course=course)
    again = services.start_attempt(user=bob, course=course)
    assert again.pk == first.pk

    services.submit_attempt(user=bob, attempt_id=first.pk, answers=answer_key(course))

    assert services.start_attempt(user=bob, course=course).pk != first.pk


# --- refused submissions ---------------------------------------------------------------------------------


def test_a_quiz_submitted_twice_is_refused_and_the_first_result_stands(bob, course):
    attempt = services.start_attempt(user=bob, course=course)
    services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course, wrong=2))

    with pytest.raises(ValidationError) as refused:
        services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course))

    assert "already submitted" in refused.value.messages[0]
    assert "60%" in refused.value.messages[0]
    attempt.refresh_from_db()
    assert (attempt.score, attempt.passed) == (60, False)
    assert not Completion.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.TRAINING_ATTEMPT).count() == 1


def test_a_passed_quiz_submitted_twice_makes_one_completion(bob, course):
    attempt = services.start_attempt(user=bob, course=course)
    services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course))

    with pytest.raises(ValidationError):
        services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course))

    assert Completion.objects.count() == 1


def test_someone_elses_attempt_is_not_found(bob, charlie, course):
    attempt = services.start_attempt(user=bob, course=course)

    with pytest.raises(Http404):
        services.submit_attempt(user=charlie, attempt_id=attempt.pk, answers=answer_key(course))

    attempt.refresh_from_db()
    assert attempt.submitted_at is None


@pytest.mark.parametrize("attempt_id", [uuid.uuid4(), "not-a-uuid", "", None, 42])
def test_an_attempt_that_does_not_exist_is_not_found(bob, course, attempt_id):
    with pytest.raises(Http404):
        services.submit_attempt(user=bob, attempt_id=attempt_id, answers=answer_key(course))


def test_a_course_changed_during_the_attempt_refuses_the_submission(harriet, bob, course):
    attempt = services.start_attempt(user=bob, course=course)
    services.save_course(actor=harriet, course=course, new_version=True)

    with pytest.raises(ValidationError) as refused:
        services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course))

    assert "changed" in refused.value.messages[0]
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert not Completion.objects.exists()
    fresh = services.start_attempt(user=bob, course=course)
    assert fresh.pk != attempt.pk
    assert fresh.course_version == course.version == 2


def test_a_course_retired_during_the_attempt_refuses_the_submission(harriet, bob, course):
    attempt = services.start_attempt(user=bob, course=course)
    services.retire_course(actor=harriet, course=course)

    with pytest.raises(ValidationError):
        services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course))
    assert not Completion.objects.exists()


@pytest.mark.parametrize("blank", [None, [], "missing"])
def test_an_unanswered_question_is_refused_and_nothing_is_recorded(bob, course, blank):
    attempt = services.start_attempt(user=bob, course=course)
    answers = answer_key(course)
    last = list(answers)[-1]
    if blank == "missing":
        del answers[last]
    else:
        answers[last] = blank

    with pytest.raises(ValidationError) as refused:
        services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answers)

    assert "Answer every question" in refused.value.messages[0]
    attempt.refresh_from_db()
    assert (attempt.submitted_at, attempt.score, attempt.passed, attempt.answers) == (None, None, None, {})
    assert not Completion.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.TRAINING_ATTEMPT).exists()
    # Answered in full, the same attempt is then scored.
    assert services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course)).passed


def test_garbage_answers_are_wrong_answers_not_a_crash(bob, course):
    answers = answer_key(course)
    first = next(iter(answers))
    answers[first] = ["'; DROP TABLE training_choice; --"]
    answers["not a question"] = [1]

    with pytest.raises(ValidationError):
        services.submit_attempt(
            user=bob, attempt_id=services.start_attempt(user=bob, course=course).pk, answers=answers
        )


def test_a_draft_course_has_no_quiz_to_take(bob):
    draft = make_course("Draft", published=False)

    with pytest.raises(Http404):
        services.start_attempt(user=bob, course=draft)


def test_a_course_without_questions_has_no_quiz(bob):
    empty = make_course("Reading only", questions=0)

    with pytest.raises(ValidationError):
        services.start_attempt(user=bob, course=empty)
    assert not Attempt.objects.exists()


def test_a_course_needs_a_question_before_it_is_published(harriet):
    draft = make_course("Draft", questions=0, published=False)

    with pytest.raises(ValidationError):
        services.publish_course(actor=harriet, course=draft)
    draft.refresh_from_db()
    assert not draft.is_published


# --- writing questions ----------------------------------------------------------------------------------


def test_a_single_choice_question_needs_exactly_one_right_answer(harriet):
    course = make_course("Draft", questions=0, published=False)
    question = Question(course=course, text="Which?", kind=QuestionKind.SINGLE)

    with pytest.raises(ValidationError):
        services.save_question(
            actor=harriet,
            question=question,
            choices=[
                {"text": "a", "text_zh": "", "is_correct": True},
                {"text": "b", "text_zh": "", "is_correct": True},
            ],
        )
    assert not Question.objects.exists()


def test_a_question_with_one_answer_is_refused(harriet):
    course = make_course("Draft", questions=0, published=False)

    with pytest.raises(ValidationError):
        services.save_question(
            actor=harriet,
            question=Question(course=course, text="Which?", kind=QuestionKind.MULTIPLE),
            choices=[{"text": "a", "text_zh": "", "is_correct": True}],
        )
    assert not Question.objects.exists()


def test_only_hr_writes_questions(bob):
    from django.core.exceptions import PermissionDenied

    course = make_course("Draft", questions=0, published=False)
    with pytest.raises(PermissionDenied):
        services.save_question(
            actor=bob,
            question=Question(course=course, text="Which?"),
            choices=[
                {"text": "a", "text_zh": "", "is_correct": True},
                {"text": "b", "text_zh": "", "is_correct": False},
            ],
        )
    assert bob.has_role(Role.LAWYER)
