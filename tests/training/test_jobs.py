"""The daily training job: recurrences, reminders 14 and 3 days before and on the due date,
overdue notices and escalations — each sent once however often the job runs — and lapses
that are exact whether or not the job has run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail

from access.models import EmploymentStatus, Notification, NotificationKind
from audit.actions import AuditAction
from audit.models import AuditEvent
from jobs.models import JobOutcome
from jobs.registry import PERIODIC_JOBS
from jobs.services import run_job
from tests.factories import UserFactory, answer_key, make_course
from training import jobs, services
from training.compliance import Status, first_lapsed, standing_of, statuses
from training.models import Assignment, Completion, Reminder, ReminderStage, RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)


def at(day: date) -> datetime:
    """09:00 in Shanghai on ``day``."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(db):
    return make_course("Confidentiality duties", recurrence_months=12)


def assign(course, harriet, person, due_on):
    return services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=person, due_on=due_on)


def pass_course(user, course):
    attempt = services.start_attempt(user=user, course=course)
    return services.submit_attempt(user=user, attempt_id=attempt.pk, answers=answer_key(course))


def told(user, kind) -> int:
    return Notification.objects.filter(recipient=user, kind=kind).count()


def mails_to(user, kind) -> int:
    label = str(NotificationKind(kind).label)
    return sum(1 for sent in mail.outbox if sent.to == [user.email] and label in sent.subject)


# --- recurrence ---------------------------------------------------------------------------------------


def test_a_pass_counts_until_the_day_before_it_expires_and_not_a_day_longer(course, harriet, bob, clock):
    assign(course, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, course)

    row = Assignment.objects.get(user=bob)
    assert Completion.objects.get(user=bob).expires_on == date(2027, 3, 2)
    assert row.good_through == date(2027, 3, 1)

    clock.move_to(at(date(2027, 3, 1)))  # no job has run all year
    assert standing_of(bob).status == Status.DUE_SOON
    assert first_lapsed(bob) is None
    clock.move_to(datetime(2027, 3, 1, 16, 0, tzinfo=UTC))  # midnight in Shanghai: the pass has expired
    assert standing_of(bob).status == Status.LAPSED
    assert first_lapsed(bob) == row


@pytest.mark.parametrize("lead", [30, 45])
def test_the_next_round_is_assigned_ahead_of_the_expiry_and_due_on_the_last_good_day(
    settings, course, harriet, bob, clock, lead
):
    settings.TRAINING_RECURRENCE_LEAD_DAYS = lead
    assign(course, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, course)
    last_good_day = date(2027, 3, 1)
    first = Assignment.objects.get(user=bob)

    assert jobs.assign_recurrences(last_good_day - timedelta(days=lead + 1)) == 0
    assert jobs.assign_recurrences(last_good_day - timedelta(days=lead)) == 1

    first.refresh_from_db()
    assert not first.current
    following = Assignment.objects.current().get(user=bob, course=course)
    assert following.pk != first.pk
    assert following.due_on == following.good_through == last_good_day
    assert following.completed_at is None
    assert following.rule == first.rule
    assert told(bob, NotificationKind.TRAINING_ASSIGNED) == 2
    # Run again (or the day after): nothing more.
    assert jobs.assign_recurrences(last_good_day - timedelta(days=lead)) == 0
    assert jobs.assign_recurrences(last_good_day - timedelta(days=lead - 1)) == 0
    assert Assignment.objects.filter(user=bob).count() == 2


def test_passing_again_renews_the_pass(course, harriet, bob, clock):
    assign(course, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, course)
    clock.move_to(at(date(2027, 2, 1)))
    jobs.run_daily(date(2027, 2, 1))
    assert standing_of(bob).status == Status.COMPLIANT

    clock.move_to(at(date(2027, 2, 20)))
    assert standing_of(bob).status == Status.DUE_SOON
    pass_course(bob, course)

    renewed = Assignment.objects.current().get(user=bob, course=course)
    assert renewed.completed_at is not None
    assert renewed.good_through == date(2028, 2, 19)
    assert standing_of(bob).status == Status.COMPLIANT
    assert Completion.objects.filter(user=bob).count() == 2
    clock.move_to(at(date(2027, 3, 10)))  # past the first pass's expiry: still good
    assert first_lapsed(bob) is None


def test_a_job_that_runs_late_gives_no_grace(course, harriet, bob, clock):
    assign(course, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, course)

    late = date(2027, 3, 5)  # the pass expired on 2 March; the job has not run since
    clock.move_to(at(late))
    assert statuses([bob.pk])[bob.pk] == Status.LAPSED
    jobs.run_daily(late)

    following = Assignment.objects.current().get(user=bob, course=course)
    assert following.due_on == date(2027, 3, 1)
    assert statuses([bob.pk])[bob.pk] == Status.LAPSED
    assert told(bob, NotificationKind.TRAINING_OVERDUE) == 1


def test_a_course_without_recurrence_is_never_assigned_again(harriet, bob, clock):
    once = make_course("Once only", recurrence_months=None)
    assign(once, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, once)

    clock.move_to(at(date(2036, 3, 2)))
    assert jobs.assign_recurrences(date(2036, 3, 2)) == 0
    assert standing_of(bob).status == Status.COMPLIANT


def test_a_departed_person_is_not_assigned_the_next_round(course, harriet, bob):
    assign(course, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, course)
    bob.employment_status = EmploymentStatus.DEPARTED
    bob.save(update_fields=["employment_status"])

    assert jobs.assign_recurrences(date(2027, 2, 20)) == 0


# --- reminders ------------------------------------------------------------------------------------------


def run_every_day(start: date, end: date, clock, job=jobs.send_reminders, twice=True):
    """Run ``job`` each day from ``start`` to ``end`` (twice a day: a retry, a second worker)."""
    day = start
    while day <= end:
        clock.move_to(at(day))
        for _run in range(2 if twice else 1):
            job(day)
        day += timedelta(days=1)


def test_reminders_go_14_and_3_days_before_and_on_the_due_date_once_each(
    course, harriet, bob, clock, django_capture_on_commit_callbacks
):
    due = TODAY + timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True):
        assign(course, harriet, bob, due)
    sent_on = {}

    day = TODAY
    while day <= due + timedelta(days=2):
        clock.move_to(at(day))
        with django_capture_on_commit_callbacks(execute=True):
            jobs.send_reminders(day)
            jobs.send_reminders(day)
        sent_on[day] = told(bob, NotificationKind.TRAINING_REMINDER)
        day += timedelta(days=1)

    firsts = [day for day, count in sent_on.items() if count > sent_on.get(day - timedelta(days=1), 0)]
    assert firsts == [due - timedelta(days=14), due - timedelta(days=3), due]
    assert told(bob, NotificationKind.TRAINING_REMINDER) == 3
    assert mails_to(bob, NotificationKind.TRAINING_REMINDER) == 3
    assert mails_to(bob, NotificationKind.TRAINING_ASSIGNED) == 1
    assert set(Reminder.objects.values_list("stage", flat=True)) == {
        ReminderStage.DUE_14,
        ReminderStage.DUE_3,
        ReminderStage.DUE_0,
    }


def test_an_assignment_made_ten_days_ahead_skips_the_14_day_reminder(course, harriet, bob, clock):
    due = TODAY + timedelta(days=10)
    assign(course, harriet, bob, due)

    run_every_day(TODAY, due, clock)

    reminders = Notification.objects.filter(recipient=bob, kind=NotificationKind.TRAINING_REMINDER)
    assert reminders.count() == 2
    assert told(bob, NotificationKind.TRAINING_ASSIGNED) == 1
    sent = sorted(Reminder.objects.values_list("stage", "sent_at"), key=lambda row: row[1])
    assert [(stage, moment.astimezone(UTC).date()) for stage, moment in sent if stage != ReminderStage.DUE_14] == [
        (ReminderStage.DUE_3, due - timedelta(days=3)),
        (ReminderStage.DUE_0, due),
    ]
    # The 14-day stage is recorded as already covered by the assignment notice, at assignment time.
    assert Reminder.objects.get(stage=ReminderStage.DUE_14).sent_at == T0


def test_a_reminder_says_what_is_due_and_when(course, harriet, bob, clock):
    due = TODAY + timedelta(days=14)
    assign(course, harriet, bob, due + timedelta(days=1))
    clock.move_to(at(TODAY + timedelta(days=1)))

    jobs.send_reminders(TODAY + timedelta(days=1))

    note = Notification.objects.get(kind=NotificationKind.TRAINING_REMINDER)
    assert note.params["title"] == "Confidentiality duties"
    assert note.params["due"] == (due + timedelta(days=1)).isoformat()
    assert note.url == course.get_absolute_url()


def test_a_missed_run_sends_the_reminder_of_the_stage_reached(course, harriet, bob, clock):
    due = TODAY + timedelta(days=20)
    assign(course, harriet, bob, due)
    day = due - timedelta(days=12)  # the job did not run on the 14th day before

    clock.move_to(at(day))
    assert jobs.send_reminders(day) == 1

    assert Reminder.objects.filter(stage=ReminderStage.DUE_14).exists()


def test_nobody_is_reminded_of_what_they_have_done(course, harriet, bob, clock):
    due = TODAY + timedelta(days=20)
    assign(course, harriet, bob, due)
    pass_course(bob, course)

    run_every_day(TODAY, due + timedelta(days=3), clock, job=jobs.run_daily, twice=False)

    assert told(bob, NotificationKind.TRAINING_REMINDER) == 0
    assert told(bob, NotificationKind.TRAINING_OVERDUE) == 0


# --- overdue, escalation and the lapse ------------------------------------------------------------------


@pytest.fixture
def overdue(course, harriet, bob, alice, clock):
    """Bob (whose manager is Alice) owes the course by 7 March; it is now 8 March."""
    bob.manager = alice
    bob.save(update_fields=["manager"])
    due = TODAY + timedelta(days=5)
    assign(course, harriet, bob, due)
    clock.move_to(at(due + timedelta(days=1)))
    return due


def test_an_overdue_person_is_told_once_and_their_manager_once(
    overdue, course, alice, bob, harriet, clock, django_capture_on_commit_callbacks
):
    day = overdue + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.record_lapses(day) == {"lapsed": 1, "escalated": 1}
        assert jobs.record_lapses(day) == {"lapsed": 0, "escalated": 0}
    run_every_day(day, day + timedelta(days=5), clock, job=jobs.run_daily)

    assert told(bob, NotificationKind.TRAINING_OVERDUE) == 1
    assert told(alice, NotificationKind.TRAINING_ESCALATION) == 1
    assert told(harriet, NotificationKind.TRAINING_ESCALATION) == 0
    assert mails_to(bob, NotificationKind.TRAINING_OVERDUE) == 1
    assert mails_to(alice, NotificationKind.TRAINING_ESCALATION) == 1
    escalation = Notification.objects.get(kind=NotificationKind.TRAINING_ESCALATION)
    assert escalation.params["person"] == "Bob Test"
    assert escalation.params["due"] == overdue.isoformat()
    assert escalation.url == f"/training/people/{bob.pk}/"


def test_the_lapse_is_audited_once(overdue, bob, clock):
    day = overdue + timedelta(days=1)
    run_every_day(day, day + timedelta(days=3), clock, job=jobs.run_daily)

    [event] = AuditEvent.objects.filter(action=AuditAction.TRAINING_LAPSE)
    assert event.actor is None
    assert event.record["detail"]["person_id"] == bob.pk
    assert event.record["detail"]["good_through"] == overdue.isoformat()
    assert event.record["reason"] == ""


def test_nothing_is_overdue_on_the_due_date_itself(overdue, bob):
    assert jobs.record_lapses(overdue) == {"lapsed": 0, "escalated": 0}
    assert told(bob, NotificationKind.TRAINING_OVERDUE) == 0


def test_without_a_manager_hr_is_told(course, harriet, charlie, clock):
    due = TODAY + timedelta(days=5)
    assign(course, harriet, charlie, due)
    other_hr = UserFactory(username="hana", roles=["hr"])
    clock.move_to(at(due + timedelta(days=1)))

    jobs.record_lapses(due + timedelta(days=1))
    jobs.record_lapses(due + timedelta(days=2))

    assert told(harriet, NotificationKind.TRAINING_ESCALATION) == 1
    assert told(other_hr, NotificationKind.TRAINING_ESCALATION) == 1


def test_a_manager_who_has_left_is_passed_over_for_hr(overdue, alice, harriet):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    jobs.record_lapses(overdue + timedelta(days=1))

    assert told(harriet, NotificationKind.TRAINING_ESCALATION) == 1
    assert Notification.objects.filter(recipient=alice).count() == 0


def test_hr_is_not_told_about_their_own_lapse(course, harriet, clock):
    due = TODAY + timedelta(days=5)
    assign(course, harriet, harriet, due)
    clock.move_to(at(due + timedelta(days=1)))

    jobs.record_lapses(due + timedelta(days=1))

    assert told(harriet, NotificationKind.TRAINING_OVERDUE) == 1
    assert told(harriet, NotificationKind.TRAINING_ESCALATION) == 0


def test_an_expired_pass_is_reported_overdue_and_its_next_round_escalated_once(course, harriet, bob, alice, clock):
    bob.manager = alice
    bob.save(update_fields=["manager"])
    assign(course, harriet, bob, TODAY + timedelta(days=20))
    pass_course(bob, course)

    run_every_day(date(2027, 2, 27), date(2027, 3, 6), clock, job=jobs.run_daily)

    assert told(bob, NotificationKind.TRAINING_ASSIGNED) == 2  # the first round, and the next
    assert told(bob, NotificationKind.TRAINING_OVERDUE) == 1
    assert told(alice, NotificationKind.TRAINING_ESCALATION) == 1
    assert AuditEvent.objects.filter(action=AuditAction.TRAINING_LAPSE).count() == 1


# --- the job as the scheduler runs it ------------------------------------------------------------------------


def test_the_daily_job_is_registered_and_scheduled():
    assert PERIODIC_JOBS["training.daily"] == "training.jobs.run_daily"
    scheduled = [entry["args"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()]
    assert ("training.daily",) in scheduled


def test_the_daily_job_runs_and_records_its_counts(overdue, bob):
    run = run_job("training.daily")

    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts == {"assigned": 0, "recurred": 0, "reminded": 0, "lapsed": 1, "escalated": 1}
    again = run_job("training.daily")
    assert again.counts == {"assigned": 0, "recurred": 0, "reminded": 0, "lapsed": 0, "escalated": 0}


def test_the_daily_job_assigns_people_the_signals_missed(course, harriet, bob, charlie):
    from access.models import Department, User

    services.assign_course(
        actor=harriet,
        course=course,
        target=RuleTarget.DEPARTMENT,
        department=Department.LITIGATION,
        due_on=TODAY + timedelta(days=20),
    )
    User.objects.filter(pk=charlie.pk).update(department=Department.LITIGATION)  # no signal

    assert jobs.run_daily(TODAY)["assigned"] == 1
    assert Assignment.objects.current().filter(user=charlie, course=course).exists()
