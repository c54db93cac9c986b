"""Break-glass, the service: who may open a matter in an emergency, what it gives (a view grant
that ends exactly after BREAK_GLASS_HOURS), what it refuses — alike, and recorded — and the
security officer's review.

Charlie, a lawyer, holds no grant on Alice's CONFIDENTIAL matter; Dana is the security officer.
Time stands still at T0 (Monday 2 March 2026, 09:00 in the firm's time zone).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from access.break_glass import EMERGENCY_REASON, open_in_emergency, review_break_glass
from access.models import (
    BreakGlassAccess,
    BreakGlassStatus,
    EthicalWall,
    GrantLevel,
    MatterUserGrant,
    Notification,
    NotificationKind,
    Role,
    WallKind,
    WallMember,
)
from access.policy import level_on
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Classification, ConflictCheck, MatterStatus
from tests.factories import MatterFactory, UserFactory, enroll, grant, make_course
from training import services as training
from training.models import RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
REASON = "Client Acme Holdings called at 8am: court hearing moved to 10am, partner unreachable"
NOTE = "Acme hearing was confirmed with the court registry"
NO_SUCH_NUMBER = "2026-X-99999"
REFUSED = "No matter you may open in an emergency has this number."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hc_matter(alice):
    matter = MatterFactory(responsible_partner=alice, classification=Classification.HIGHLY_CONFIDENTIAL)
    grant(alice, matter, GrantLevel.MANAGE)
    return matter


def open_for(user, matter_or_number, reason=REASON) -> BreakGlassAccess:
    number = getattr(matter_or_number, "number", matter_or_number)
    return open_in_emergency(user=user, number=number, reason=reason)


def refusal(user, number, reason=REASON) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        open_in_emergency(user=user, number=number, reason=reason)
    return refused.value


def wall(matter, kind, *members):
    built = EthicalWall.objects.create(kind=kind, client=matter.client, matter=matter, reason="x", memo="y")
    for member in members:
        key = "group" if isinstance(member, Group) else "user"
        WallMember.objects.create(wall=built, **{key: member})
    return built


def events(action, outcome=Outcome.SUCCESS):
    return [event.record for event in AuditEvent.objects.filter(action=action, outcome=outcome).order_by("pk")]


# --- what it gives --------------------------------------------------------------------------------------


def test_a_lawyer_without_a_grant_gets_view_access_for_four_hours_exactly(matter, charlie, clock):
    assert level_on(charlie, matter) is None
    access = open_for(charlie, matter)
    assert access.status == BreakGlassStatus.PENDING_REVIEW
    assert access.expires_at == T0 + timedelta(hours=4)
    emergency = MatterUserGrant.objects.get(user=charlie, content_object=matter)
    assert emergency.level == GrantLevel.VIEW
    assert emergency.expires_at == T0 + timedelta(hours=4)
    assert emergency.reason == EMERGENCY_REASON  # never the person's words
    clock.move_to(T0 + timedelta(hours=4) - timedelta(microseconds=1))
    assert level_on(charlie, matter) == GrantLevel.VIEW
    clock.move_to(T0 + timedelta(hours=4))
    assert level_on(charlie, matter) is None  # exact: no job has run


def test_the_hours_are_a_setting(matter, charlie, settings):
    settings.BREAK_GLASS_HOURS = 2
    assert open_for(charlie, matter).expires_at == T0 + timedelta(hours=2)


def test_the_reason_is_kept_encrypted_and_read_back(matter, charlie):
    access = open_for(charlie, matter)
    assert BreakGlassAccess.objects.get(pk=access.pk).reason == REASON
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reason FROM {BreakGlassAccess._meta.db_table}")  # noqa: S608 - our own table name
        stored = cursor.fetchone()[0]
    assert "Acme" not in stored


def test_the_use_is_recorded_without_the_reason(matter, charlie):
    access = open_for(charlie, matter)
    (event,) = events(AuditAction.BREAK_GLASS)
    assert event["actor"] == "charlie"
    assert event["matter_number"] == matter.number
    assert event["detail"] == {
        "break_glass_id": str(access.pk),
        "hours": 4,
        "expires_at": (T0 + timedelta(hours=4)).isoformat(),
    }
    (created,) = [e for e in events(AuditAction.GRANT_CREATE) if e["detail"].get("user") == "charlie"]
    assert created["matter_number"] == matter.number
    for stored in AuditEvent.objects.all():
        assert b"Acme" not in bytes(stored.payload)


def test_the_security_officer_is_notified_at_once_and_not_the_person(matter, charlie, dana):
    other_officer = UserFactory(username="olga", roles=[Role.SECURITY_OFFICER])
    UserFactory(username="gone", roles=[Role.SECURITY_OFFICER], is_active=False)
    access = open_for(charlie, matter)
    notes = Notification.objects.filter(kind=NotificationKind.BREAK_GLASS)
    assert {note.recipient.username for note in notes} == {"dana", "olga"}
    note = notes.get(recipient=dana)
    assert note.params == {"person": str(charlie), "number": matter.number, "until": "2026-03-02T13:00+08:00"}
    assert note.url == f"/access/emergency/{access.pk}/review/"
    assert "Acme" not in str(note.params)
    assert other_officer.notifications.count() == 1


def test_a_partner_may_break_glass_too(matter):
    partner = UserFactory(username="peter", roles=[Role.PARTNER])
    enroll(partner)
    open_for(partner, matter)
    assert level_on(partner, matter) == GrantLevel.VIEW


def test_an_expired_grant_of_ones_own_is_replaced(matter, charlie):
    grant(charlie, matter, GrantLevel.EDIT, expires_at=T0 + timedelta(minutes=1))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        open_for(charlie, matter)
        assert level_on(charlie, matter) == GrantLevel.VIEW


# --- who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dana", "adam", "harriet", "root"])
def test_only_lawyers_and_partners_may(request, matter, persona):
    with pytest.raises(PermissionDenied):
        open_for(request.getfixturevalue(persona), matter)
    assert not BreakGlassAccess.objects.exists()


def test_a_departed_lawyer_may_not(matter, charlie):
    charlie.is_active = False
    charlie.save()
    with pytest.raises(PermissionDenied):
        open_for(charlie, matter)


@pytest.mark.parametrize(
    "reason", ["", "   ", "urgent", "x" * 19, "x" * 1001], ids=["empty", "blank", "short", "19", "too-long"]
)
def test_the_reason_must_say_something(matter, charlie, reason):
    exc = refusal(charlie, matter.number, reason)
    assert "reason" in exc.message_dict
    assert not BreakGlassAccess.objects.exists()
    assert not events(AuditAction.BREAK_GLASS, Outcome.DENIED)


def test_someone_who_already_holds_access_is_told_so(matter, bob):
    exc = refusal(bob, matter.number)
    assert exc.message_dict["number"] == ["You already have access to this matter: open it from your matters."]
    assert not BreakGlassAccess.objects.exists()


def test_access_through_a_team_counts_as_held(matter, charlie):
    team = Group.objects.create(name="Litigation team")
    charlie.groups.add(team)
    grant(team, matter, GrantLevel.VIEW)
    assert "already have access" in refusal(charlie, matter.number).message_dict["number"][0]


def test_a_second_emergency_on_the_same_matter_is_refused_while_the_first_lasts(matter, charlie, clock):
    open_for(charlie, matter)
    assert "already have access" in refusal(charlie, matter.number).message_dict["number"][0]
    clock.move_to(T0 + timedelta(hours=5))
    open_for(charlie, matter)
    assert BreakGlassAccess.objects.filter(user=charlie).count() == 2


# --- refused alike, and recorded -------------------------------------------------------------------------


def test_a_number_nobody_has_is_refused_and_recorded(charlie):
    exc = refusal(charlie, NO_SUCH_NUMBER)
    assert exc.message_dict == {"number": [REFUSED]}
    (event,) = events(AuditAction.BREAK_GLASS, Outcome.DENIED)
    assert event["actor"] == "charlie"
    assert event["matter_id"] is None
    assert event["detail"] == {"requested_number": NO_SUCH_NUMBER}


def test_a_closed_matter_is_refused_alike(alice, charlie):
    closed = MatterFactory(responsible_partner=alice, status=MatterStatus.CLOSED)
    assert refusal(charlie, closed.number).message_dict == {"number": [REFUSED]}
    (event,) = events(AuditAction.BREAK_GLASS, Outcome.DENIED)
    assert event["matter_number"] == closed.number


def test_a_matter_awaiting_conflict_clearance_is_refused_alike(alice, charlie):
    intake = MatterFactory(responsible_partner=alice, status=MatterStatus.INTAKE)
    assert refusal(charlie, intake.number).message_dict == {"number": [REFUSED]}
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    assert events(AuditAction.BREAK_GLASS, Outcome.DENIED)[0]["matter_number"] == intake.number


def test_a_lateral_hire_whose_pending_check_found_the_matter_is_refused_alike(matter, charlie):
    check = ConflictCheck.objects.create(
        person=charlie, hits=[{"matter_id": str(matter.pk), "client_code": matter.client.code}]
    )
    check.hit_clients.set([matter.client])
    assert refusal(charlie, matter.number).message_dict == {"number": [REFUSED]}
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    (event,) = events(AuditAction.BREAK_GLASS, Outcome.DENIED)
    assert event["matter_number"] == matter.number


def test_a_highly_confidential_matter_is_refused_alike(hc_matter, charlie):
    assert refusal(charlie, hc_matter.number).message_dict == {"number": [REFUSED]}
    assert level_on(charlie, hc_matter) is None
    (event,) = events(AuditAction.BREAK_GLASS, Outcome.DENIED)
    assert event["matter_number"] == hc_matter.number
    assert event["detail"] == {"requested_number": hc_matter.number}


def test_a_highly_confidential_matter_opens_when_the_firm_allows_it(hc_matter, charlie, settings):
    settings.BREAK_GLASS_ALLOW_HIGHLY_CONFIDENTIAL = True
    open_for(charlie, hc_matter)
    assert level_on(charlie, hc_matter) == GrantLevel.VIEW
    assert events(AuditAction.BREAK_GLASS)[0]["matter_number"] == hc_matter.number


def test_break_glass_through_an_exclusionary_wall_is_refused_like_a_missing_number(matter, charlie):
    wall(matter, WallKind.EXCLUSIONARY, charlie)
    walled = refusal(charlie, matter.number)
    missing = refusal(charlie, NO_SUCH_NUMBER)
    assert walled.message_dict == missing.message_dict == {"number": [REFUSED]}
    assert level_on(charlie, matter) is None
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    walled_event, missing_event = events(AuditAction.BREAK_GLASS, Outcome.DENIED)
    assert walled_event["matter_number"] == matter.number
    assert walled_event["detail"] == {"requested_number": matter.number, "screened": True}
    assert missing_event["matter_id"] is None


def test_an_exclusionary_wall_around_all_the_clients_matters_through_a_group_refuses_too(matter, charlie):
    team = Group.objects.create(name="Other side")
    charlie.groups.add(team)
    EthicalWall.objects.create(kind=WallKind.EXCLUSIONARY, client=matter.client, reason="x", memo="y")
    WallMember.objects.create(wall=EthicalWall.objects.get(), group=team)
    assert refusal(charlie, matter.number).message_dict == {"number": [REFUSED]}


def test_an_inclusionary_wall_not_naming_the_person_refuses_and_one_naming_them_does_not(matter, charlie, alice):
    inclusionary = wall(matter, WallKind.INCLUSIONARY, alice)
    assert refusal(charlie, matter.number).message_dict == {"number": [REFUSED]}
    WallMember.objects.create(wall=inclusionary, user=charlie)
    open_for(charlie, matter)
    assert level_on(charlie, matter) == GrantLevel.VIEW


def test_a_lifted_wall_no_longer_refuses(matter, charlie):
    lifted = wall(matter, WallKind.EXCLUSIONARY, charlie)
    lifted.lifted_at = T0
    lifted.save()
    open_for(charlie, matter)


def test_a_person_refused_by_their_training_is_told_why_and_nothing_is_opened(matter, charlie, harriet, clock):
    course = make_course("Confidentiality duties")
    training.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=charlie, due_on=T0.date() + timedelta(days=1)
    )
    clock.move_to(T0 + timedelta(days=3))
    message = refusal(charlie, matter.number).message_dict["number"][0]
    assert "Confidentiality duties" in message
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    # Told before the number is looked up: the refusal names no matter, so it tells nothing about one.
    (refused,) = events(AuditAction.BREAK_GLASS, Outcome.DENIED)
    assert refused["matter_number"] == ""
    assert refused["detail"] == {"requested_number": matter.number}
    no_such = refusal(charlie, "2099-NO-0001").message_dict["number"][0]
    assert no_such == message


# --- the review ---------------------------------------------------------------------------------------------


@pytest.fixture
def used(matter, charlie):
    return open_for(charlie, matter)


def test_the_security_officer_judges_it_justified(used, dana):
    reviewed = review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.JUSTIFIED)
    assert reviewed.status == BreakGlassStatus.JUSTIFIED
    assert reviewed.reviewed_by == dana
    assert reviewed.reviewed_at == T0
    (event,) = events(AuditAction.BREAK_GLASS_REVIEW)
    assert event["actor"] == "dana"
    assert event["detail"] == {
        "break_glass_id": str(used.pk),
        "user_id": used.user_id,
        "user": "charlie",
        "outcome": "justified",
        "revoked": False,
    }


def test_not_justified_needs_a_note_which_is_kept_encrypted_and_out_of_the_trail(used, dana):
    with pytest.raises(ValidationError) as refused:
        review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.UNJUSTIFIED, note="  ")
    assert "note" in refused.value.message_dict
    review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.UNJUSTIFIED, note=NOTE)
    assert BreakGlassAccess.objects.get(pk=used.pk).review_note == NOTE
    for stored in AuditEvent.objects.all():
        assert b"Acme" not in bytes(stored.payload)


def test_an_unknown_outcome_is_refused(used, dana):
    with pytest.raises(ValidationError):
        review_break_glass(actor=dana, access=used, outcome="pending")


def test_revoke_now_ends_the_access_at_once(used, dana, charlie, matter, clock):
    clock.move_to(T0 + timedelta(hours=1))
    review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.UNJUSTIFIED, note=NOTE, revoke=True)
    assert level_on(charlie, matter) is None
    assert BreakGlassAccess.objects.get(pk=used.pk).expires_at == T0 + timedelta(hours=1)
    (revoked,) = events(AuditAction.GRANT_REVOKE)
    assert revoked["actor"] == "dana"
    assert events(AuditAction.BREAK_GLASS_REVIEW)[0]["detail"]["revoked"] is True
    assert Notification.objects.filter(recipient=charlie, kind=NotificationKind.GRANT_REVOKED).exists()


def test_revoke_now_after_the_access_ended_revokes_nothing(used, dana, clock):
    clock.move_to(T0 + timedelta(hours=6))
    review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.JUSTIFIED, revoke=True)
    assert not events(AuditAction.GRANT_REVOKE)
    assert BreakGlassAccess.objects.get(pk=used.pk).expires_at == T0 + timedelta(hours=4)


def test_revoke_now_leaves_a_grant_given_since_by_request(used, dana, charlie, matter):
    grant(charlie, matter, GrantLevel.DOWNLOAD, expires_at=T0 + timedelta(days=30))
    review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.JUSTIFIED, revoke=True)
    assert level_on(charlie, matter) == GrantLevel.DOWNLOAD


def test_a_review_is_final(used, dana):
    review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.JUSTIFIED)
    with pytest.raises(ValidationError):
        review_break_glass(actor=dana, access=used, outcome=BreakGlassStatus.UNJUSTIFIED, note=NOTE)


@pytest.mark.parametrize("persona", ["alice", "bob", "charlie", "adam", "root"])
def test_only_the_security_officer_reviews(request, used, persona):
    with pytest.raises(PermissionDenied):
        review_break_glass(actor=request.getfixturevalue(persona), access=used, outcome=BreakGlassStatus.JUSTIFIED)


def test_nobody_reviews_their_own(matter, dana):
    dana.groups.add(Group.objects.get_or_create(name=Role.LAWYER.value)[0])
    del dana._role_names
    own = open_for(dana, matter)
    assert not Notification.objects.filter(recipient=dana, kind=NotificationKind.BREAK_GLASS).exists()
    with pytest.raises(ValidationError):
        review_break_glass(actor=dana, access=own, outcome=BreakGlassStatus.JUSTIFIED)
