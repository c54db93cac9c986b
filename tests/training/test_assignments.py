"""Who owes what: HR's assignments, courses' standing requirements and the onboarding bundle.

Harriet (HR) assigns; Bob and Charlie are lawyers, Alice a partner, Dana the security
officer. Assignments reach the people a rule names today and those who join later; a
departed person and a vendor user owe nothing; applying a rule again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from access.models import Department, EmploymentStatus, GrantLevel, Notification, NotificationKind, Role
from matters.models import Classification
from tests.factories import MatterFactory, UserFactory, grant, make_course, make_policy_document
from training import assignments, services
from training.compliance import Status, statuses
from training.models import Assignment, AssignmentRule, RuleTarget

# 2026-03-02 09:00 in Asia/Shanghai.
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def clock():
    """Every test starts on TODAY, before anyone is created (``date_joined`` tells new staff apart)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(db):
    return make_course("Confidentiality duties")


@pytest.fixture
def team(db):
    return Group.objects.create(name="Project Falcon team")


def holders(course) -> set[str]:
    """Usernames of the people who currently owe (or hold) ``course``."""
    return set(Assignment.objects.current().filter(course=course).values_list("user__username", flat=True))


def due_of(user, course) -> date:
    return Assignment.objects.current().get(user=user, course=course).due_on


def assign(course, actor, **kwargs):
    kwargs.setdefault("due_on", TODAY + timedelta(days=20))
    return services.assign_course(actor=actor, course=course, **kwargs)


# --- groups, and people who join them later ---------------------------------------------------------


def test_a_group_assignment_reaches_its_members(course, team, harriet, bob, charlie):
    bob.groups.add(team)

    rule, made = assign(course, harriet, target=RuleTarget.GROUP, group=team)

    assert [row.user for row in made] == [bob]
    assert holders(course) == {"bob"}
    assert due_of(bob, course) == TODAY + timedelta(days=20)
    assert Assignment.objects.get(user=bob).rule == rule
    assert Assignment.objects.get(user=bob).assigned_by == harriet


def test_someone_added_to_the_group_later_receives_it(course, team, harriet, bob, charlie, clock):
    bob.groups.add(team)
    assign(course, harriet, target=RuleTarget.GROUP, group=team, due_in_days=14)

    team.user_set.add(charlie)  # from the group's side
    assert holders(course) == {"bob", "charlie"}
    # Joining today: the rule's own due date still leaves more than the 14 days a joiner gets.
    assert due_of(charlie, course) == TODAY + timedelta(days=20)

    clock.move_to(T0 + timedelta(days=15))
    newcomer = UserFactory(username="nina")
    newcomer.groups.add(team)  # from the person's side
    assert holders(course) == {"bob", "charlie", "nina"}
    # Fifteen days on, the rule's date is five days away: a joiner is given the full 14.
    assert due_of(newcomer, course) == TODAY + timedelta(days=15 + 14)


def test_joining_another_group_brings_nothing(course, team, harriet, bob, charlie):
    assign(course, harriet, target=RuleTarget.GROUP, group=team)

    charlie.groups.add(Group.objects.create(name="Another team"))

    assert holders(course) == set()


# --- departments, roles, all staff, new staff ---------------------------------------------------------


def test_a_department_assignment_reaches_the_department_and_people_who_move_into_it(course, harriet, bob, charlie):
    bob.department = Department.LITIGATION
    bob.save(update_fields=["department"])

    assign(course, harriet, target=RuleTarget.DEPARTMENT, department=Department.LITIGATION)
    assert holders(course) == {"bob"}

    charlie.department = Department.LITIGATION
    charlie.save(update_fields=["department"])
    assert holders(course) == {"bob", "charlie"}


def test_a_role_assignment_reaches_everyone_holding_the_role_and_later_holders(
    course, harriet, alice, bob, charlie, dana
):
    assign(course, harriet, target=RuleTarget.ROLE, role=Role.LAWYER)
    assert holders(course) == {"alice", "bob", "charlie"}

    dana.groups.add(Group.objects.get(name=Role.LAWYER))
    UserFactory(username="leo", roles=[Role.LAWYER])
    assert holders(course) == {"alice", "bob", "charlie", "dana", "leo"}


def test_all_staff_means_everyone_but_departed_people_and_vendor_users(course, harriet, bob, dana):
    UserFactory(username="gone", employment_status=EmploymentStatus.DEPARTED)
    UserFactory(username="vera", roles=[Role.VENDOR])
    UserFactory(username="off", is_active=False)

    assign(course, harriet, target=RuleTarget.ALL_STAFF)

    assert holders(course) == {"harriet", "bob", "dana"}


def test_new_staff_means_people_who_join_the_firm_after_the_assignment(course, harriet, bob, clock):
    clock.shift(timedelta(minutes=1))
    _rule, made = services.assign_course(
        actor=harriet, course=course, target=RuleTarget.NEW_STAFF, due_on=None, due_in_days=10
    )
    assert made == []

    clock.move_to(T0 + timedelta(days=3))
    nina = UserFactory(username="nina")
    UserFactory(username="vera", roles=[Role.VENDOR])

    assert holders(course) == {"nina"}
    assert due_of(nina, course) == TODAY + timedelta(days=3 + 10)


def test_a_departed_person_and_a_vendor_user_are_not_assigned_a_course_addressed_to_them(course, harriet):
    gone = UserFactory(username="gone", employment_status=EmploymentStatus.DEPARTED)
    vendor = UserFactory(username="vera", roles=[Role.VENDOR])

    for person in (gone, vendor):
        _rule, made = assign(course, harriet, target=RuleTarget.PERSON, person=person)
        assert made == []
    assert not Assignment.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.TRAINING_ASSIGNED).exists()


def test_an_account_made_a_vendor_after_it_was_created_owes_nothing(course, harriet, db):
    make_policy_document_version(harriet)
    assign(course, harriet, target=RuleTarget.ALL_STAFF)
    account = UserFactory(username="vera")  # the administrator creates the account, then chooses its groups
    assert Assignment.objects.current().filter(user=account).count() == 2

    account.groups.add(Group.objects.get_or_create(name=Role.VENDOR)[0])

    assert not Assignment.objects.current().filter(user=account).exists()
    assert statuses([account.pk]) == {}


def test_a_vendor_account_made_a_member_of_staff_owes_what_staff_owe(course, harriet):
    assign(course, harriet, target=RuleTarget.ALL_STAFF)
    account = UserFactory(username="vera", roles=[Role.VENDOR])
    assert not Assignment.objects.current().filter(user=account).exists()

    account.groups.remove(Group.objects.get(name=Role.VENDOR))

    assert Assignment.objects.current().filter(user=account, course=course).exists()


def test_someone_who_leaves_owes_nothing_more(course, harriet, bob):
    assign(course, harriet, target=RuleTarget.PERSON, person=bob)

    bob.employment_status = EmploymentStatus.DEPARTED
    bob.save(update_fields=["employment_status"])

    assert holders(course) == set()
    assert Assignment.objects.filter(user=bob).count() == 1  # kept as history


def test_applying_a_rule_twice_creates_nothing_new(course, team, harriet, bob, charlie):
    bob.groups.add(team)
    rule, _made = assign(course, harriet, target=RuleTarget.GROUP, group=team)
    events = Notification.objects.count()

    assert assignments.apply_rule(rule, actor=harriet) == []
    assert assignments.sync() == 0
    assert assignments.sync(bob) == 0
    bob.groups.add(team)  # already a member: nothing is added
    assert Assignment.objects.filter(course=course).count() == 1
    assert Notification.objects.count() == events


def test_a_second_rule_for_the_same_course_does_not_assign_it_twice(course, harriet, bob):
    assign(course, harriet, target=RuleTarget.PERSON, person=bob)
    _rule, made = assign(course, harriet, target=RuleTarget.ROLE, role=Role.LAWYER, due_on=TODAY + timedelta(days=5))

    assert made == []
    assert Assignment.objects.filter(user=bob, course=course).count() == 1
    assert due_of(bob, course) == TODAY + timedelta(days=20)  # the first assignment stands


def test_an_ended_rule_reaches_nobody_new(course, team, harriet, bob, charlie):
    rule, _made = assign(course, harriet, target=RuleTarget.GROUP, group=team)
    services.end_rule(actor=harriet, rule=rule)

    team.user_set.add(bob, charlie)

    assert holders(course) == set()


def test_each_person_assigned_is_told(course, team, harriet, bob, charlie):
    team.user_set.add(bob, charlie)

    assign(course, harriet, target=RuleTarget.GROUP, group=team)

    told = Notification.objects.filter(kind=NotificationKind.TRAINING_ASSIGNED)
    assert sorted(n.recipient.username for n in told) == ["bob", "charlie"]
    assert {n.url for n in told} == {course.get_absolute_url()}
    assert told.first().params["due"] == (TODAY + timedelta(days=20)).isoformat()


# --- bad input ----------------------------------------------------------------------------------------


def test_an_assignment_without_a_due_date_is_refused(course, harriet, bob):
    with pytest.raises(ValidationError) as refused:
        services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=None)

    assert "due_on" in refused.value.message_dict
    assert not AssignmentRule.objects.exists()
    assert not Assignment.objects.exists()


def test_a_due_date_in_the_past_is_refused(course, harriet, bob):
    with pytest.raises(ValidationError) as refused:
        assign(course, harriet, target=RuleTarget.PERSON, person=bob, due_on=TODAY - timedelta(days=1))

    assert "due_on" in refused.value.message_dict
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("target", "field"),
    [
        (RuleTarget.PERSON, "person"),
        (RuleTarget.GROUP, "group"),
        (RuleTarget.DEPARTMENT, "department"),
        (RuleTarget.ROLE, "role"),
        (RuleTarget.CLASSIFICATION, "classification"),
    ],
)
def test_a_target_without_its_who_is_refused(course, harriet, target, field):
    with pytest.raises(ValidationError) as refused:
        assign(course, harriet, target=target)

    assert field in refused.value.message_dict
    assert not AssignmentRule.objects.exists()


def test_an_unknown_target_is_refused(course, harriet):
    with pytest.raises(ValidationError):
        assign(course, harriet, target="everyone_i_dislike")
    assert not AssignmentRule.objects.exists()


def test_a_draft_course_cannot_be_assigned(harriet, bob):
    draft = make_course("Draft", published=False)

    with pytest.raises(ValidationError):
        assign(draft, harriet, target=RuleTarget.PERSON, person=bob)
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "dana", "adam", "root"])
def test_only_hr_assigns(course, persona, request, bob):
    actor = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        assign(course, actor, target=RuleTarget.PERSON, person=bob)
    assert not Assignment.objects.exists()


# --- a course's standing requirements --------------------------------------------------------------


def require(harriet, **requirements):
    """A course HR writes with these requirements, then publishes."""
    course = make_course("Required reading", published=False)
    for name, value in requirements.items():
        setattr(course, name, value)
    services.save_course(actor=harriet, course=course)
    return services.publish_course(actor=harriet, course=course)


def test_a_course_required_for_a_role_is_assigned_to_its_holders(settings, harriet, alice, bob, dana):
    settings.TRAINING_REQUIRED_DAYS = 21

    course = require(harriet, required_roles=[Role.LAWYER])

    assert holders(course) == {"alice", "bob"}
    assert due_of(bob, course) == TODAY + timedelta(days=21)
    assert AssignmentRule.objects.get(course=course).standing


def test_a_course_required_for_a_department_is_assigned_to_its_members(harriet, bob, charlie):
    bob.department = Department.CORPORATE
    bob.save(update_fields=["department"])

    course = require(harriet, required_departments=[Department.CORPORATE])

    assert holders(course) == {"bob"}


def test_a_course_required_for_confidential_access_reaches_people_holding_a_live_grant(harriet, bob, charlie, dana):
    grant(bob, MatterFactory(classification=Classification.CONFIDENTIAL))
    grant(charlie, MatterFactory(classification=Classification.INTERNAL))
    grant(dana, MatterFactory(classification=Classification.HIGHLY_CONFIDENTIAL), expires_at=T0 + timedelta(hours=1))
    team = Group.objects.create(name="Project Falcon team")
    member = UserFactory(username="tom")
    member.groups.add(team)
    grant(team, MatterFactory(classification=Classification.HIGHLY_CONFIDENTIAL))
    expired = UserFactory(username="ex")
    grant(expired, MatterFactory(classification=Classification.CONFIDENTIAL), expires_at=T0 + timedelta(minutes=5))

    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        course = require(harriet, required_from_classification=Classification.CONFIDENTIAL)

    assert holders(course) == {"bob", "dana", "tom"}


def test_the_daily_job_reaches_people_given_confidential_access_later(harriet, bob):
    from training.jobs import run_daily

    course = require(harriet, required_from_classification=Classification.CONFIDENTIAL)
    assert holders(course) == set()

    grant(bob, MatterFactory(classification=Classification.CONFIDENTIAL), GrantLevel.VIEW)
    run_daily(TODAY)

    assert holders(course) == {"bob"}


def test_dropping_a_requirement_stops_assigning_it_to_later_holders(harriet, bob):
    course = require(harriet, required_roles=[Role.LAWYER])
    course.required_roles = []
    services.save_course(actor=harriet, course=course)

    UserFactory(username="leo", roles=[Role.LAWYER])

    assert holders(course) == {"bob"}  # what was assigned stays
    assert not course.rules.filter(ended_at__isnull=True).exists()


# --- onboarding ---------------------------------------------------------------------------------


def make_policy_document_version(harriet, *, kind="agreement", sign_by=None):
    document = make_policy_document(kind, "Confidentiality agreement" if kind == "agreement" else "Security policy")
    return services.publish_version(
        actor=harriet,
        document=document,
        text_en=f"The {kind} text.",
        text_zh="协议文本。",
        sign_by=sign_by or TODAY + timedelta(days=5),
    )


def test_a_new_member_of_staff_receives_the_onboarding_bundle(settings, harriet, bob, clock):
    settings.TRAINING_ONBOARDING_DAYS = 10
    clock.shift(timedelta(minutes=1))
    onboarding = require(harriet, onboarding=True)
    agreement = make_policy_document_version(harriet, sign_by=TODAY + timedelta(days=5))
    policy = make_policy_document_version(harriet, kind="policy", sign_by=TODAY + timedelta(days=40))
    assert holders(onboarding) == set()  # nobody here today is new
    assert Assignment.objects.filter(user=bob, version=agreement).exists()

    clock.move_to(T0 + timedelta(days=2))
    nina = UserFactory(username="nina", roles=[Role.LAWYER])

    owed = {row.course or row.version: row.due_on for row in Assignment.objects.current().filter(user=nina)}
    assert owed == {
        onboarding: TODAY + timedelta(days=2 + 10),
        agreement: TODAY + timedelta(days=2 + 10),  # the agreement's date has nearly come: she gets her ten days
        policy: TODAY + timedelta(days=40),  # the policy's own date is later
    }
    assert Notification.objects.filter(recipient=nina, kind=NotificationKind.TRAINING_ASSIGNED).count() == 3
    assert statuses([nina.pk])[nina.pk] == Status.DUE_SOON


def test_a_new_vendor_user_receives_no_onboarding(harriet):
    require(harriet, onboarding=True)
    make_policy_document_version(harriet)

    vendor = UserFactory(username="vera", roles=[Role.VENDOR])

    assert not Assignment.objects.current().filter(user=vendor).exists()


# --- retiring a course ----------------------------------------------------------------------------------


def test_a_retired_course_is_owed_by_nobody_and_nobody_lapses_on_it(course, harriet, bob, charlie, clock):
    from tests.factories import answer_key
    from training.services import start_attempt, submit_attempt

    assign(course, harriet, target=RuleTarget.ROLE, role=Role.LAWYER)
    attempt = start_attempt(user=bob, course=course)
    submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(course))

    services.retire_course(actor=harriet, course=course)
    UserFactory(username="leo", roles=[Role.LAWYER])

    assert holders(course) == {"bob"}  # Charlie's open assignment is withdrawn; Bob's pass stays on record
    clock.move_to(T0 + timedelta(days=800))
    assert statuses([bob.pk, charlie.pk]) == {}
