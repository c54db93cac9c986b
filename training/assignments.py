"""Who owes what: turning HR's assignments, courses' standing requirements and published
agreement versions into one :class:`~training.models.Assignment` per person.

``apply_rule`` reaches a rule's members today; :func:`sync` reaches those who
joined a group, department, role or the firm since (run for one person when
their account or groups change, and for everyone by the daily job). Both only
add what is missing, so running them again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from access.models import EmploymentStatus, MatterGroupGrant, MatterUserGrant, NotificationKind, Role, User
from access.notifications import notify_many
from audit.actions import AuditAction, Outcome
from audit.events import build_event, current_request, write_events
from training.models import (
    Assignment,
    AssignmentRule,
    Course,
    CourseStatus,
    DocumentVersion,
    PolicyDocument,
    Reminder,
    ReminderStage,
    RuleTarget,
)

# The stage a reminder is sent at, by days left (settings.TRAINING_REMINDER_DAYS).
STAGE_FOR_DAYS = {14: ReminderStage.DUE_14, 3: ReminderStage.DUE_3, 0: ReminderStage.DUE_0}


def staff() -> QuerySet[User]:
    """Everyone who owes training: active people of the firm, not departed, not vendor users
    (whose obligations are their firm's agreement with us)."""
    return (
        User.objects.filter(is_active=True)
        .exclude(employment_status=EmploymentStatus.DEPARTED)
        .exclude(groups__name=Role.VENDOR)
    )


def audience(rule: AssignmentRule) -> QuerySet[User]:
    """The people a rule reaches today."""
    people = staff()
    target = rule.target
    if target == RuleTarget.PERSON:
        return people.filter(pk=rule.person_id)
    if target == RuleTarget.GROUP:
        return people.filter(groups=rule.group_id)
    if target == RuleTarget.DEPARTMENT:
        return people.filter(department=rule.department)
    if target == RuleTarget.ROLE:
        return people.filter(groups__name=rule.role)
    if target == RuleTarget.NEW_STAFF:
        return people.filter(date_joined__gte=rule.created_at)
    if target == RuleTarget.CLASSIFICATION:
        now = timezone.now()
        live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        level = Q(content_object__classification__gte=rule.classification)
        direct = MatterUserGrant.objects.filter(live, level).values("user_id")
        groups = MatterGroupGrant.objects.filter(live, level).values("group_id")
        return people.filter(Q(pk__in=direct) | Q(groups__in=groups)).distinct()
    return people  # ALL_STAFF


def _due(rule: AssignmentRule, today: date, *, joining: bool) -> date:
    """A rule's members today owe by its due date; later joiners get ``due_in_days``, never less."""
    allowed = today + timedelta(days=rule.due_in_days)
    if rule.due_on is None:
        return allowed
    return max(rule.due_on, allowed) if joining else rule.due_on


def apply_rule(
    rule: AssignmentRule, *, actor: User | None = None, people: Iterable[User] | None = None, joining: bool = False
) -> list[Assignment]:
    """Assign the rule's course to its members (or to ``people`` among them) who do not already
    hold a current assignment for it. Nothing happens for an unpublished course or an ended rule."""
    course = rule.course
    if course.status != CourseStatus.PUBLISHED or rule.ended_at is not None:
        return []
    members = audience(rule)
    if people is not None:
        members = members.filter(pk__in=[person.pk for person in people])
    holding = Assignment.objects.current().filter(course=course).values("user_id")
    today = timezone.localdate()
    due = _due(rule, today, joining=joining)
    rows = [
        Assignment(user=person, course=course, rule=rule, assigned_by=actor, due_on=due, good_through=due)
        for person in members.exclude(pk__in=holding).order_by("pk")
    ]
    return _create(rows, actor=actor, today=today)


def assign_version(
    version: DocumentVersion,
    *,
    actor: User | None = None,
    people: Iterable[User] | None = None,
    joining: bool = False,
    overdue_since: dict[int, date] | None = None,
) -> list[Assignment]:
    """Ask every member of staff (or ``people``) who has not been asked to sign ``version``.

    ``overdue_since``: people already overdue on the version this one replaces, and since when —
    a new version does not give them a new period of grace.
    """
    members = staff()
    if people is not None:
        members = members.filter(pk__in=[person.pk for person in people])
    today = timezone.localdate()
    due = (
        max(version.sign_by, today + timedelta(days=settings.TRAINING_ONBOARDING_DAYS)) if joining else version.sign_by
    )
    _ask_again(version, members, due)
    asked = Assignment.objects.filter(version=version).values("user_id")
    overdue_since = overdue_since or {}
    rows = []
    for person in members.exclude(pk__in=asked).order_by("pk"):
        owed_by = min(due, overdue_since.get(person.pk, due))
        rows.append(Assignment(user=person, version=version, assigned_by=actor, due_on=owed_by, good_through=owed_by))
    return _create(rows, actor=actor, today=today)


def _ask_again(version: DocumentVersion, members: QuerySet[User], due: date) -> int:
    """Someone whose request to sign was withdrawn (made a vendor user, or departed) and who is
    staff again is asked again — one row per person and version, made current anew."""
    withdrawn = Assignment.objects.filter(version=version, current=False, completed_at__isnull=True, user__in=members)
    return withdrawn.update(current=True, due_on=due, good_through=due)


def supersede_document(document: PolicyDocument, today: date | None = None) -> dict[int, date]:
    """A new version replaces the old: what people signed before no longer counts.

    Returns who was already overdue on it and since when, for :func:`assign_version`."""
    today = today or timezone.localdate()
    current = Assignment.objects.current().filter(version__document=document)
    overdue = dict(current.open().filter(good_through__lt=today).values_list("user_id", "good_through"))
    current.update(current=False)
    return overdue


def assign_next(previous: Assignment, *, due_on: date) -> Assignment:
    """The next round of a recurring course (the daily job, ahead of the pass expiring)."""
    previous.current = False
    previous.save(update_fields=["current"])
    row = Assignment(user=previous.user, course=previous.course, rule=previous.rule, due_on=due_on, good_through=due_on)
    return _create([row], actor=None, today=timezone.localdate())[0]


def _create(rows: list[Assignment], *, actor: User | None, today: date) -> list[Assignment]:
    """Insert the assignments with their audit events, their notices (after commit, by e-mail too)
    and the reminder stages their due date has already passed (the notice stands for those)."""
    if not rows:
        return []
    with transaction.atomic():
        created = Assignment.objects.bulk_create(rows, batch_size=1000)  # ids returned (PostgreSQL, SQLite)
        Reminder.objects.bulk_create(
            [
                Reminder(assignment=row, stage=stage)
                for row in created
                for days, stage in STAGE_FOR_DAYS.items()
                if (row.due_on - today).days <= days and days != 0
            ],
            batch_size=1000,
        )
        request = current_request()
        write_events(
            build_event(
                AuditAction.TRAINING_ASSIGN,
                outcome=Outcome.SUCCESS,
                target=None,
                actor=actor,
                reason="",
                detail=_event_detail(row),
                request=request,
            )
            for row in created
        )
        notify_many(
            [(row.user, NotificationKind.TRAINING_ASSIGNED, notice_params(row), row.item_url()) for row in created]
        )
    return created


def _event_detail(row: Assignment) -> dict:
    detail = {"assignment_id": row.pk, "person_id": row.user_id, "due_on": row.due_on.isoformat()}
    if row.course_id:
        detail.update(course_id=row.course_id, course_version=row.course.version)
    else:
        detail.update(version_id=str(row.version_id), document_id=row.version.document_id)
    if row.rule_id:
        detail["rule_id"] = row.rule_id
    return detail


def notice_params(row: Assignment, **extra) -> dict:
    """A notification's parameters: the item's titles in both languages and the due date (no free text)."""
    if row.course_id:
        titles = {"title": row.course.title, "title_zh": row.course.title_zh}
    else:
        document = row.version.document
        titles = {"title": document.title, "title_zh": document.title_zh}
    return {**titles, "due": row.due_on.isoformat(), **extra}


def sync(user: User | None = None, *, actor: User | None = None) -> int:
    """Give ``user`` (or everyone) what the rules in force and the current document versions
    ask of them and they do not hold yet; returns how many assignments were made.

    A person who owes nothing any more (made a vendor user, or departed) has what they had
    not done withdrawn instead (an account is created before its groups are chosen)."""
    if user is not None and owes_nothing(user):
        withdraw(user)
        return 0
    if user is None:
        leavers = Q(employment_status=EmploymentStatus.DEPARTED) | Q(groups__name=Role.VENDOR)
        Assignment.objects.current().open().filter(user__in=User.objects.filter(leavers)).update(current=False)
    people = [user] if user is not None else None
    made = 0
    rules = AssignmentRule.objects.filter(ended_at__isnull=True, course__status=CourseStatus.PUBLISHED)
    for rule in rules.select_related("course"):
        made += len(apply_rule(rule, actor=actor, people=people, joining=True))
    for version in current_versions():
        made += len(assign_version(version, actor=actor, people=people, joining=True))
    return made


def owes_nothing(user: User) -> bool:
    """A vendor user or someone who has left: outside :func:`staff` for good (not merely switched off)."""
    return user.is_departed or Role.VENDOR.value in user.role_names()


def withdraw(user: User) -> int:
    """Withdraw what ``user`` has not done yet (kept as history, no longer current); returns how many."""
    return Assignment.objects.current().open().filter(user_id=user.pk).update(current=False)


def current_versions() -> list[DocumentVersion]:
    """The latest version of each agreement and policy."""
    latest = {}
    for version in DocumentVersion.objects.select_related("document").order_by("document_id", "-number"):
        latest.setdefault(version.document_id, version)
    return list(latest.values())


def standing_rules_for(course: Course) -> list[AssignmentRule]:
    """The rules a course's own requirements stand for (roles, departments, access, onboarding)."""
    days = settings.TRAINING_REQUIRED_DAYS
    rules = [
        AssignmentRule(course=course, target=RuleTarget.ROLE, role=role, due_in_days=days)
        for role in course.required_roles
    ]
    rules += [
        AssignmentRule(course=course, target=RuleTarget.DEPARTMENT, department=dept, due_in_days=days)
        for dept in course.required_departments
    ]
    if course.required_from_classification:
        rules.append(
            AssignmentRule(
                course=course,
                target=RuleTarget.CLASSIFICATION,
                classification=course.required_from_classification,
                due_in_days=days,
            )
        )
    if course.onboarding:
        rules.append(
            AssignmentRule(course=course, target=RuleTarget.NEW_STAFF, due_in_days=settings.TRAINING_ONBOARDING_DAYS)
        )
    return rules
