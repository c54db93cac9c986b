"""Asking for access, and deciding: access.access_requests, seen from requester and approvers.

Time stands still at T0 (Monday 2 March 2026, 09:00 in the firm's time zone) unless a
test moves it, so end dates and "today" are exact.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from access import access_requests
from access.access_requests import (
    approve_access_request,
    deny_access_request,
    known_to,
    missing_capacities,
    pending_for,
    request_access,
    withdraw_access_request,
)
from access.expiry import expire_grants
from access.models import (
    AccessApproval,
    AccessRequest,
    ApprovalCapacity,
    EmploymentStatus,
    GrantLevel,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
    Role,
)
from access.policy import Action, can, get_matter_for
from access.services import revoke_team_grant
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Classification
from tests.access.test_sign_in import T0
from tests.factories import MatterFactory, UserFactory, grant

TODAY = date(2026, 3, 2)  # T0 in Asia/Shanghai
NO_SUCH_NUMBER = "2026-X-99999"
# Free text that may quote a client: it must reach approvers and the requester in the
# app, and never an audit event or an e-mail.
REASON = "Covering the Acme Holdings merger closing while Bob is away"
DENIAL = "The Acme board objected to outside counsel on this deal"
NOTE = "Approved for the Acme closing only"
REVOCATION = "Acme asked us to shrink the team"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def secret_matter(alice):
    """A HIGHLY CONFIDENTIAL matter Alice runs (and manages)."""
    matter = MatterFactory(responsible_partner=alice, classification=Classification.HIGHLY_CONFIDENTIAL)
    grant(alice, matter, GrantLevel.MANAGE)
    return matter


@pytest.fixture
def internal_matter(alice):
    return MatterFactory(responsible_partner=alice, classification=Classification.INTERNAL)


@pytest.fixture
def since(matter, adam, dana, charlie):
    """The last audit event before the test acts (the fixtures' own grants are recorded too)."""
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def ask(user, number, level=GrantLevel.VIEW, days=30, reason=REASON, **extra) -> AccessRequest:
    return request_access(
        actor=user, number=number, level=level, reason=reason, ends_on=TODAY + timedelta(days=days), **extra
    )


def midnight_after(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def new_events(since: int, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, pk__gt=since).order_by("id"))


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def notified(kind, **filters) -> list:
    return list(Notification.objects.filter(kind=kind, **filters).order_by("id"))


def recipients(kind) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


# --- request → decision → access ------------------------------------------------------------


def test_an_approved_request_gives_access_until_the_end_of_the_chosen_day(alice, adam, charlie, matter):
    access_request = ask(charlie, matter.number, GrantLevel.DOWNLOAD, days=20)
    assert access_request.status == RequestStatus.PENDING
    assert not can(charlie, Action.VIEW, matter)
    assert recipients(NotificationKind.REQUEST_SUBMITTED) == {"alice", "adam"}

    approve_access_request(actor=alice, access_request=access_request)

    assert can(charlie, Action.VIEW, matter)
    assert can(charlie, Action.DOWNLOAD, matter)
    assert not can(charlie, Action.EDIT, matter)
    assert get_matter_for(charlie, matter.pk) == matter
    granted = MatterUserGrant.objects.get(user=charlie, content_object=matter)
    assert granted.request_id == access_request.pk
    assert granted.level == GrantLevel.DOWNLOAD
    assert granted.granted_by == alice
    assert granted.expires_at == midnight_after(date(2026, 3, 22))
    assert timezone.localtime(granted.expires_at).hour == 0
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.APPROVED
    assert access_request.decided_by == alice
    assert access_request.decided_at == timezone.now()
    [approved] = notified(NotificationKind.REQUEST_APPROVED)
    assert approved.recipient == charlie
    assert approved.url == matter.get_absolute_url()
    assert approved.params["until"] == "2026-03-22"


def test_a_denied_request_gives_no_access_and_tells_the_requester_why_in_the_app_only(
    alice, charlie, matter, django_capture_on_commit_callbacks
):
    access_request = ask(charlie, matter.number)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        deny_access_request(actor=alice, access_request=access_request, reason=DENIAL)

    assert not can(charlie, Action.VIEW, matter)
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.DENIED
    assert access_request.decision_reason == DENIAL
    assert access_request.decided_by == alice
    [denied] = notified(NotificationKind.REQUEST_DENIED)
    assert denied.recipient == charlie
    assert denied.params["reason"] == DENIAL
    [sent] = mail.outbox
    assert sent.to == [charlie.email]
    assert "denied" in sent.body
    assert matter.number in sent.body
    assert "Acme" not in sent.body
    assert "Acme" not in sent.subject


def test_a_denial_needs_a_reason(alice, charlie, matter):
    access_request = ask(charlie, matter.number)

    with pytest.raises(ValidationError) as excinfo:
        deny_access_request(actor=alice, access_request=access_request, reason="  ")

    assert "reason" in errors_of(excinfo)
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.PENDING
    assert not notified(NotificationKind.REQUEST_DENIED)


# --- the two-person rule ------------------------------------------------------------------------


def test_highly_confidential_needs_the_partner_and_the_security_officer(alice, charlie, dana, secret_matter, since):
    access_request = ask(charlie, secret_matter.number, days=10)
    assert "dana" in recipients(NotificationKind.REQUEST_SUBMITTED)

    approve_access_request(actor=alice, access_request=access_request)

    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.PENDING
    assert not can(charlie, Action.VIEW, secret_matter)
    assert missing_capacities(access_request) == ["security_officer"]
    [second] = notified(NotificationKind.REQUEST_NEEDS_SECOND)
    assert second.recipient == dana
    assert second.params["number"] == secret_matter.number

    with pytest.raises(ValidationError, match="already approved"):
        approve_access_request(actor=alice, access_request=access_request)
    assert AccessApproval.objects.filter(request=access_request).count() == 1

    approve_access_request(actor=dana, access_request=access_request)

    assert can(charlie, Action.VIEW, secret_matter)
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.APPROVED
    assert access_request.decided_by == dana
    assert sorted(
        AccessApproval.objects.filter(request=access_request).values_list("approver__username", "capacity")
    ) == [
        ("alice", ApprovalCapacity.PARTNER),
        ("dana", ApprovalCapacity.SECURITY_OFFICER),
    ]
    approvals = [event.record["detail"] for event in new_events(since, AuditAction.ACCESS_APPROVE)]
    assert [(d["capacity"], d["complete"]) for d in approvals] == [("partner", False), ("security_officer", True)]


def test_the_security_officer_may_approve_first(alice, charlie, dana, secret_matter):
    access_request = ask(charlie, secret_matter.number, days=10)

    approve_access_request(actor=dana, access_request=access_request)

    assert not can(charlie, Action.VIEW, secret_matter)
    [second] = notified(NotificationKind.REQUEST_NEEDS_SECOND)
    assert second.recipient == alice
    approve_access_request(actor=alice, access_request=access_request)
    assert can(charlie, Action.VIEW, secret_matter)


@pytest.fixture
def pat(db):
    """A partner who is also a security officer."""
    return UserFactory(username="pat", roles=(Role.PARTNER, Role.LAWYER, Role.SECURITY_OFFICER))


@pytest.fixture
def pats_secret_matter(pat):
    matter = MatterFactory(responsible_partner=pat, classification=Classification.HIGHLY_CONFIDENTIAL)
    grant(pat, matter, GrantLevel.MANAGE)
    return matter


def test_the_same_person_in_both_capacities_is_not_two(pat, charlie, dana, pats_secret_matter):
    access_request = ask(charlie, pats_secret_matter.number, days=10)

    approve_access_request(actor=pat, access_request=access_request)

    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.PENDING
    assert not can(charlie, Action.VIEW, pats_secret_matter)
    with pytest.raises(ValidationError, match="already approved"):
        approve_access_request(actor=pat, access_request=access_request)
    assert not can(charlie, Action.VIEW, pats_secret_matter)
    assert AccessApproval.objects.filter(request=access_request).count() == 1


def test_after_a_partner_who_is_also_security_officer_another_officer_completes_it(
    pat, charlie, dana, pats_secret_matter
):
    # Pat's approval must count as the partner's (only Pat can give that one); the
    # security officer's can then come from Dana. Otherwise nobody can ever complete it.
    access_request = ask(charlie, pats_secret_matter.number, days=10)
    approve_access_request(actor=pat, access_request=access_request)
    assert "dana" in recipients(NotificationKind.REQUEST_NEEDS_SECOND)

    approve_access_request(actor=dana, access_request=access_request)

    assert can(charlie, Action.VIEW, pats_secret_matter)


def test_an_administrator_cannot_stand_in_for_an_available_partner(adam, charlie, dana, secret_matter):
    access_request = ask(charlie, secret_matter.number, days=10)

    with pytest.raises(ValidationError, match="responsible partner"):
        approve_access_request(actor=adam, access_request=access_request)

    assert not AccessApproval.objects.filter(request=access_request).exists()
    approve_access_request(actor=dana, access_request=access_request)
    assert not can(charlie, Action.VIEW, secret_matter)  # the partner's approval is still missing


def test_an_administrator_stands_in_when_the_matter_has_no_partner(adam, charlie, dana):
    orphan = MatterFactory(responsible_partner=None, classification=Classification.HIGHLY_CONFIDENTIAL)
    access_request = ask(charlie, orphan.number, days=10)
    assert {"adam", "dana"} <= recipients(NotificationKind.REQUEST_SUBMITTED)

    approve_access_request(actor=adam, access_request=access_request)
    assert not can(charlie, Action.VIEW, orphan)
    approve_access_request(actor=dana, access_request=access_request)

    assert can(charlie, Action.VIEW, orphan)
    assert set(AccessApproval.objects.filter(request=access_request).values_list("capacity", flat=True)) == {
        ApprovalCapacity.ADMINISTRATOR,
        ApprovalCapacity.SECURITY_OFFICER,
    }


def test_the_security_officer_does_not_decide_ordinary_requests(charlie, dana, matter):
    access_request = ask(charlie, matter.number)

    with pytest.raises(PermissionDenied):
        approve_access_request(actor=dana, access_request=access_request)
    with pytest.raises(PermissionDenied):
        deny_access_request(actor=dana, access_request=access_request, reason=DENIAL)

    assert not can(charlie, Action.VIEW, matter)
    assert not pending_for(dana).filter(pk=access_request.pk).exists()


def test_a_colleague_who_is_not_the_partner_cannot_decide(bob, charlie, matter):
    access_request = ask(charlie, matter.number)

    with pytest.raises(PermissionDenied):
        approve_access_request(actor=bob, access_request=access_request)
    assert not can(charlie, Action.VIEW, matter)


def test_nobody_decides_their_own_request(adam, matter):
    access_request = ask(adam, matter.number)

    with pytest.raises(ValidationError, match="own request"):
        approve_access_request(actor=adam, access_request=access_request)
    with pytest.raises(ValidationError, match="own request"):
        deny_access_request(actor=adam, access_request=access_request, reason=DENIAL)

    assert not can(adam, Action.VIEW, matter)
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.PENDING
    assert not pending_for(adam).filter(pk=access_request.pk).exists()


def test_the_approval_queue_holds_what_each_person_may_decide(alice, adam, charlie, dana, matter, secret_matter):
    ordinary = ask(charlie, matter.number)
    secret = ask(charlie, secret_matter.number, days=10)
    nowhere = ask(charlie, NO_SUCH_NUMBER)

    assert set(pending_for(alice)) == {ordinary, secret}
    assert set(pending_for(dana)) == {secret}
    assert set(pending_for(adam)) == {ordinary, secret, nowhere}
    assert not pending_for(charlie).exists()
    withdraw_access_request(actor=charlie, access_request=ordinary)
    assert set(pending_for(adam)) == {secret, nowhere}


# --- the same answer, whether or not the number exists -----------------------------------------

BAD_INPUTS = {
    "too long": ({"days": 60}, "ends_on"),
    "past": ({"days": -1}, "ends_on"),
    "no reason": ({"reason": "   "}, "reason"),
}


@pytest.fixture
def numbers(matter, secret_matter):
    """A number no matter has, and a CONFIDENTIAL and a HIGHLY CONFIDENTIAL one Charlie cannot see."""
    return [NO_SUCH_NUMBER, matter.number, secret_matter.number]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_the_same_bad_input_gets_the_same_answer_whatever_the_number(bad, charlie, numbers):
    changes, field = BAD_INPUTS[bad]
    answers = []
    for number in numbers:
        with pytest.raises(ValidationError) as excinfo:
            ask(charlie, number, **changes)
        answers.append(errors_of(excinfo))

    assert answers[0] == answers[1] == answers[2]
    assert set(answers[0]) == {field}
    assert not AccessRequest.objects.exists()


def test_the_longest_period_shown_is_the_strictest_for_matters_one_cannot_see(charlie, numbers):
    messages = set()
    for number in numbers:
        with pytest.raises(ValidationError) as excinfo:
            ask(charlie, number, days=60)
        messages.add(errors_of(excinfo)["ends_on"][0])

    assert messages == {"Access may be requested for at most 30 days, until 2026-04-01."}


def test_a_duplicate_request_gets_the_same_answer_whatever_the_number(charlie, numbers):
    answers = []
    for number in numbers:
        ask(charlie, number)
        with pytest.raises(ValidationError) as excinfo:
            ask(charlie, number, days=10)
        answers.append(errors_of(excinfo))

    assert answers[0] == answers[1] == answers[2]
    assert set(answers[0]) == {"number"}
    assert AccessRequest.objects.count() == 3


def test_requests_for_unknown_and_unseen_numbers_are_stored_alike(charlie, numbers, matter, secret_matter):
    stored = [ask(charlie, number, GrantLevel.DOWNLOAD, days=30) for number in numbers]

    def visible(access_request):
        return {
            field: getattr(access_request, field)
            for field in ("requester_id", "filed_by_id", "level", "reason", "ends_on", "renewal", "status")
        }

    assert visible(stored[0]) == visible(stored[1]) == visible(stored[2])
    assert [r.matter for r in stored] == [None, matter, secret_matter]
    assert [r.matter_number for r in stored] == numbers
    assert not Notification.objects.filter(recipient=charlie).exists()


def test_an_internal_matter_may_be_asked_for_longer(charlie, internal_matter):
    with pytest.raises(ValidationError) as excinfo:
        ask(charlie, internal_matter.number, days=181)
    assert "180 days" in errors_of(excinfo)["ends_on"][0]

    access_request = ask(charlie, internal_matter.number, days=180)

    assert access_request.matter == internal_matter


def test_who_may_know_that_a_matter_exists(alice, bob, charlie, matter, secret_matter, internal_matter):
    public = MatterFactory(classification=Classification.PUBLIC)
    assert not known_to(charlie, None)
    assert known_to(charlie, public)
    assert known_to(charlie, internal_matter)
    assert not known_to(charlie, matter)
    assert not known_to(charlie, secret_matter)
    assert known_to(bob, matter)
    assert known_to(alice, secret_matter)
    bob.employment_status = EmploymentStatus.DEPARTED
    bob.save(update_fields=["employment_status"])
    assert not known_to(bob, matter)


def test_one_cannot_ask_for_what_one_already_holds(bob, matter):
    with pytest.raises(ValidationError) as excinfo:
        ask(bob, matter.number)

    assert "already hold" in errors_of(excinfo)["number"][0]
    assert not AccessRequest.objects.exists()
    # More than Bob holds, but his view access has no end: a grant for a while would end
    # it with the new level, so he is sent to the matter's partner instead.
    with pytest.raises(ValidationError) as excinfo:
        ask(bob, matter.number, GrantLevel.EDIT)
    assert "no end date" in errors_of(excinfo)["level"][0]
    assert not AccessRequest.objects.exists()


def test_a_holder_whose_grant_ends_sooner_may_ask_for_a_renewal(alice, charlie, matter):
    grant(charlie, matter, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=5)))
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with pytest.raises(ValidationError):
        ask(charlie, matter.number, days=3)

    renewal = ask(charlie, matter.number, days=60)  # a holder knows the matter: its own limit (90 days) applies

    assert renewal.renewal
    approve_access_request(actor=alice, access_request=renewal)
    renewed = MatterUserGrant.objects.get(user=charlie, content_object=matter)
    assert renewed.expires_at == midnight_after(TODAY + timedelta(days=60))
    assert renewed.request_id == renewal.pk
    [event] = new_events(since, AuditAction.GRANT_RENEW)
    assert event.record["detail"]["request_id"] == str(renewal.pk)
    assert event.record["detail"]["replaced"] is True
    assert not new_events(since, AuditAction.GRANT_CREATE)


def test_a_renewal_never_lowers_the_level(alice, charlie, matter):
    grant(charlie, matter, GrantLevel.EDIT, expires_at=midnight_after(TODAY + timedelta(days=5)))
    renewal = ask(charlie, matter.number, GrantLevel.VIEW, days=60)

    approve_access_request(actor=alice, access_request=renewal)

    renewed = MatterUserGrant.objects.get(user=charlie, content_object=matter)
    assert renewed.level == GrantLevel.EDIT
    assert renewed.expires_at == midnight_after(TODAY + timedelta(days=60))
    assert can(charlie, Action.EDIT, matter)


def test_asking_for_more_for_a_shorter_time_does_not_cut_the_access_already_held(alice, charlie, matter, clock):
    # Charlie may view until 1 May; he asks to edit for ten days. Whatever is decided,
    # he must not lose the viewing he already holds for the rest of April.
    grant(charlie, matter, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=60)))
    try:
        upgrade = ask(charlie, matter.number, GrantLevel.EDIT, days=10)
    except ValidationError:
        return  # refused up front, naming the problem: nothing is lost
    approve_access_request(actor=alice, access_request=upgrade)
    assert can(charlie, Action.EDIT, matter)

    clock.move_to(midnight_after(TODAY + timedelta(days=30)))

    assert can(charlie, Action.VIEW, matter)


def test_approving_an_old_request_does_not_shorten_access_given_meanwhile(alice, adam, charlie, matter, clock):
    # Charlie asked to view for 30 days; before anyone decided, Alice put him on the team
    # to edit with no end. Approving the old request must not put an end to that.
    pending = ask(charlie, matter.number, GrantLevel.VIEW, days=30)
    grant(charlie, matter, GrantLevel.EDIT)
    with contextlib.suppress(ValidationError):  # refused as already held: nothing is lost
        approve_access_request(actor=adam, access_request=pending)

    clock.move_to(midnight_after(TODAY + timedelta(days=60)))

    assert can(charlie, Action.EDIT, matter)


# --- bad input writes nothing ---------------------------------------------------------------------


def _written() -> tuple[int, int, int]:
    return AccessRequest.objects.count(), Notification.objects.count(), AuditEvent.objects.count()


BAD = {
    "past end date": ({"days": -1}, "ends_on"),
    "over the maximum": ({"days": 91}, "ends_on"),
    "empty reason": ({"reason": ""}, "reason"),
    "blank reason": ({"reason": " \n "}, "reason"),
    "manage level": ({"level": GrantLevel.MANAGE}, "level"),
    "unknown level": ({"level": "delete_matter"}, "level"),
    "no number": ({"number": "  "}, "number"),
}


@pytest.mark.parametrize("bad", BAD, ids=list(BAD))
def test_bad_input_is_named_and_nothing_is_written(bad, bob, matter, since):
    # Bob may see the matter (the 90-day CONFIDENTIAL limit applies); he asks for more than he holds.
    changes, field = BAD[bad]
    arguments = {"number": matter.number, "level": GrantLevel.EDIT, **changes}
    before = _written()

    with pytest.raises(ValidationError) as excinfo:
        ask(bob, **arguments)

    assert field in errors_of(excinfo)
    assert _written() == before


def test_a_duplicate_pending_request_is_refused_and_nothing_is_written(charlie, matter):
    ask(charlie, matter.number)
    before = _written()

    with pytest.raises(ValidationError) as excinfo:
        ask(charlie, f"  {matter.number} ", GrantLevel.EDIT, days=5)

    assert "pending request" in errors_of(excinfo)["number"][0]
    assert _written() == before


def test_after_a_decision_one_may_ask_again(alice, charlie, matter):
    first = ask(charlie, matter.number)
    deny_access_request(actor=alice, access_request=first, reason=DENIAL)

    again = ask(charlie, matter.number)

    assert again.pk != first.pk


def test_the_database_keeps_one_pending_request_per_person_and_number(charlie, matter):
    ask(charlie, matter.number)

    with pytest.raises(IntegrityError), transaction.atomic():
        AccessRequest.objects.create(
            requester=charlie,
            matter=matter,
            matter_number=matter.number,
            level="view_matter",
            reason="x",
            ends_on=TODAY,
        )


def test_two_submissions_at_once_keep_one_and_answer_the_other(monkeypatch, charlie, matter):
    # Both passed validation before either was written: the constraint decides.
    ask(charlie, matter.number)
    monkeypatch.setattr(access_requests, "_check_request", lambda *args: None)
    before = _written()

    with pytest.raises(ValidationError) as excinfo:
        ask(charlie, matter.number)

    assert "pending request" in errors_of(excinfo)["number"][0]
    assert _written() == before


# --- the decision re-checks ---------------------------------------------------------------------


def test_a_request_of_someone_who_has_since_left_cannot_be_approved(alice, charlie, matter):
    access_request = ask(charlie, matter.number)
    charlie.employment_status = EmploymentStatus.DEPARTING
    charlie.departure_date = TODAY
    charlie.save(update_fields=["employment_status", "departure_date"])

    with pytest.raises(ValidationError, match="departed"):
        approve_access_request(actor=alice, access_request=access_request)

    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.PENDING
    deny_access_request(actor=alice, access_request=access_request, reason="left the firm")


def test_a_request_whose_end_date_has_passed_cannot_be_approved(alice, charlie, matter, clock):
    access_request = ask(charlie, matter.number, days=1)
    clock.move_to(midnight_after(TODAY + timedelta(days=1)))

    with pytest.raises(ValidationError, match="end date has passed"):
        approve_access_request(actor=alice, access_request=access_request)

    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.PENDING


def test_a_request_may_be_approved_on_its_last_day(alice, charlie, matter, clock):
    access_request = ask(charlie, matter.number, days=1)
    clock.move_to(midnight_after(TODAY + timedelta(days=1)) - timedelta(microseconds=1))

    approve_access_request(actor=alice, access_request=access_request)

    assert can(charlie, Action.VIEW, matter)


def test_a_decided_request_stays_decided(alice, adam, charlie, matter):
    denied = ask(charlie, matter.number)
    deny_access_request(actor=alice, access_request=denied, reason=DENIAL)

    with pytest.raises(ValidationError, match="already been decided"):
        approve_access_request(actor=adam, access_request=denied)
    with pytest.raises(ValidationError, match="already been decided"):
        deny_access_request(actor=adam, access_request=denied, reason=DENIAL)
    assert not can(charlie, Action.VIEW, matter)

    approved = ask(charlie, matter.number)
    approve_access_request(actor=alice, access_request=approved)
    with pytest.raises(ValidationError, match="already been decided"):
        deny_access_request(actor=adam, access_request=approved, reason=DENIAL)
    with pytest.raises(ValidationError, match="already been decided"):
        withdraw_access_request(actor=charlie, access_request=approved)
    assert can(charlie, Action.VIEW, matter)
    denied.refresh_from_db()
    approved.refresh_from_db()
    assert (denied.status, approved.status) == (RequestStatus.DENIED, RequestStatus.APPROVED)


def test_a_request_for_a_number_no_matter_has_can_only_be_denied(alice, adam, charlie):
    access_request = ask(charlie, NO_SUCH_NUMBER)
    assert recipients(NotificationKind.REQUEST_SUBMITTED) == {"adam"}

    with pytest.raises(ValidationError, match="only be denied"):
        approve_access_request(actor=adam, access_request=access_request)
    with pytest.raises(PermissionDenied):
        deny_access_request(actor=alice, access_request=access_request, reason=DENIAL)

    deny_access_request(actor=adam, access_request=access_request, reason="No such matter")
    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.DENIED
    assert notified(NotificationKind.REQUEST_DENIED)[0].recipient == charlie


# --- withdrawing ------------------------------------------------------------------------------


def test_the_requester_may_withdraw_and_nobody_else(alice, bob, adam, charlie, matter):
    access_request = ask(charlie, matter.number)

    for other in (alice, bob, adam):
        with pytest.raises(PermissionDenied):
            withdraw_access_request(actor=other, access_request=access_request)
    withdraw_access_request(actor=charlie, access_request=access_request)

    access_request.refresh_from_db()
    assert access_request.status == RequestStatus.WITHDRAWN
    assert access_request.decided_by == charlie
    assert not pending_for(alice).exists()
    with pytest.raises(ValidationError):
        approve_access_request(actor=alice, access_request=access_request)
    with pytest.raises(ValidationError, match="already been decided"):
        withdraw_access_request(actor=charlie, access_request=access_request)
    assert not can(charlie, Action.VIEW, matter)


# --- the audit trail ----------------------------------------------------------------------------


def test_every_step_is_an_audit_event_without_anyones_free_text(
    alice, bob, charlie, adam, dana, matter, secret_matter, since, clock
):
    approved = ask(charlie, matter.number, GrantLevel.DOWNLOAD, days=5)
    approve_access_request(actor=alice, access_request=approved, note=NOTE)
    renewal = ask(charlie, matter.number, GrantLevel.DOWNLOAD, days=60, reason=REASON + " (renewal)")
    approve_access_request(actor=alice, access_request=renewal, note=NOTE)
    secret = ask(charlie, secret_matter.number, days=3)
    approve_access_request(actor=alice, access_request=secret, note=NOTE)
    approve_access_request(actor=dana, access_request=secret, note=NOTE)
    denied = ask(bob, secret_matter.number)
    deny_access_request(actor=dana, access_request=denied, reason=DENIAL)
    withdrawn = ask(bob, NO_SUCH_NUMBER)
    withdraw_access_request(actor=bob, access_request=withdrawn)
    lapsing = ask(adam, matter.number)
    revoke_team_grant(
        actor=alice, grant=MatterUserGrant.objects.get(user=bob, content_object=matter), reason=REVOCATION
    )
    clock.move_to(midnight_after(TODAY + timedelta(days=15)))
    assert expire_grants() == {"expired": 1, "warned": 0, "lapsed": 1}  # the secret matter's 3 days are over

    by_action = {action: new_events(since, action) for action in AuditAction.values}
    assert len(by_action[AuditAction.ACCESS_REQUEST]) == 6
    assert len(by_action[AuditAction.ACCESS_APPROVE]) == 4
    assert len(by_action[AuditAction.GRANT_CREATE]) == 2
    assert len(by_action[AuditAction.GRANT_RENEW]) == 1
    assert len(by_action[AuditAction.ACCESS_DENY]) == 1
    assert len(by_action[AuditAction.ACCESS_WITHDRAW]) == 1
    assert len(by_action[AuditAction.ACCESS_LAPSE]) == 1
    assert len(by_action[AuditAction.GRANT_REVOKE]) == 1
    assert len(by_action[AuditAction.GRANT_EXPIRE]) == 1
    for events in by_action.values():
        assert all(event.outcome == Outcome.SUCCESS for event in events)

    requested = {e.record["detail"]["request_id"]: e.record for e in by_action[AuditAction.ACCESS_REQUEST]}
    assert requested[str(approved.pk)]["actor"] == "charlie"
    assert requested[str(approved.pk)]["matter_number"] == matter.number
    assert requested[str(approved.pk)]["detail"]["level"] == GrantLevel.DOWNLOAD
    assert requested[str(renewal.pk)]["detail"]["renewal"] is True
    assert requested[str(withdrawn.pk)]["matter_id"] is None
    assert requested[str(withdrawn.pk)]["detail"]["number"] == NO_SUCH_NUMBER
    approvals = [e.record for e in by_action[AuditAction.ACCESS_APPROVE]]
    assert [(r["actor"], r["detail"]["capacity"], r["detail"]["complete"]) for r in approvals] == [
        ("alice", "partner", True),
        ("alice", "partner", True),
        ("alice", "partner", False),
        ("dana", "security_officer", True),
    ]
    [deny] = by_action[AuditAction.ACCESS_DENY]
    assert (deny.record["actor"], deny.record["detail"]["request_id"]) == ("dana", str(denied.pk))
    [lapse] = by_action[AuditAction.ACCESS_LAPSE]
    assert (lapse.record["actor_id"], lapse.record["detail"]["request_id"]) == (None, str(lapsing.pk))
    [revoke] = by_action[AuditAction.GRANT_REVOKE]
    assert (revoke.record["actor"], revoke.record["detail"]["user"]) == ("alice", "bob")
    [expire] = by_action[AuditAction.GRANT_EXPIRE]
    assert expire.record["matter_number"] == secret_matter.number
    assert expire.record["detail"]["request_id"] == str(secret.pk)

    everything = b"\n".join(bytes(event.payload) for event in AuditEvent.objects.filter(pk__gt=since))
    for text in (REASON, DENIAL, NOTE, REVOCATION, "Acme", matter.title, secret_matter.title):
        assert text.encode() not in everything


def test_a_refused_decision_writes_no_event(alice, charlie, dana, matter, since):
    access_request = ask(charlie, matter.number)
    count = AuditEvent.objects.count()

    for actor in (dana, charlie):
        with pytest.raises((PermissionDenied, ValidationError)):
            approve_access_request(actor=actor, access_request=access_request)

    assert AuditEvent.objects.count() == count
    assert not AccessApproval.objects.exists()


def test_get_matter_for_refuses_before_approval(charlie, matter):
    ask(charlie, matter.number)

    with pytest.raises(Http404):
        get_matter_for(charlie, matter.pk)
