"""Legal hold: placed and lifted by the security officer alone; the reason is encrypted and kept out of the trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.keys import KeyActionRefused, approve_shredding, lift_legal_hold, request_shredding, set_legal_hold
from matters.models import Client

REASON = "Subpoena from the Shanghai court in the Marlin Holdings dispute"


@pytest.fixture
def client_(matter):
    return matter.client


def _events(client, action):
    return AuditEvent.objects.filter(client_id=client.pk, action=action)


def test_the_security_officer_places_a_hold_with_a_reason(client_, dana):
    set_legal_hold(actor=dana, client=client_, reason=REASON)

    held = Client.objects.get(pk=client_.pk)
    assert held.legal_hold
    assert held.legal_hold_reason == REASON
    assert held.legal_hold_changed_by == dana
    assert held.legal_hold_changed_at is not None
    event = _events(client_, AuditAction.LEGAL_HOLD_SET).get()
    assert event.actor_id == dana.pk
    assert event.outcome == Outcome.SUCCESS


def test_the_reason_is_stored_encrypted_and_never_in_the_audit_trail(client_, dana):
    set_legal_hold(actor=dana, client=client_, reason=REASON)

    with connection.cursor() as cursor:
        cursor.execute("SELECT legal_hold_reason FROM matters_client")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert "Subpoena" not in stored
    for event in AuditEvent.objects.all():
        assert "Subpoena" not in bytes(event.payload).decode()


def test_a_reason_is_required(client_, dana):
    with pytest.raises(KeyActionRefused, match="reason"):
        set_legal_hold(actor=dana, client=client_, reason="   ")

    assert not Client.objects.get(pk=client_.pk).legal_hold


@pytest.mark.parametrize("who", ["adam", "alice", "root"])
def test_no_one_else_places_a_hold(client_, who, request):
    person = request.getfixturevalue(who)

    with pytest.raises(KeyActionRefused, match="Only the security officer"):
        set_legal_hold(actor=person, client=client_, reason=REASON)

    assert not Client.objects.get(pk=client_.pk).legal_hold
    denial = _events(client_, AuditAction.LEGAL_HOLD_SET).get()
    assert denial.outcome == Outcome.DENIED
    assert denial.actor_id == person.pk


def test_lifting_needs_the_security_officer_and_a_reason(client_, dana, adam):
    set_legal_hold(actor=dana, client=client_, reason=REASON)

    with pytest.raises(KeyActionRefused):
        lift_legal_hold(actor=adam, client=client_, reason="Proceedings closed")
    with pytest.raises(KeyActionRefused):
        lift_legal_hold(actor=dana, client=client_, reason="")
    assert Client.objects.get(pk=client_.pk).legal_hold

    lift_legal_hold(actor=dana, client=client_, reason="Proceedings closed")

    lifted = Client.objects.get(pk=client_.pk)
    assert not lifted.legal_hold
    assert lifted.legal_hold_reason == "Proceedings closed"
    assert _events(client_, AuditAction.LEGAL_HOLD_LIFT).filter(outcome=Outcome.SUCCESS).count() == 1


def test_a_hold_is_not_placed_twice_nor_lifted_when_there_is_none(client_, dana):
    with pytest.raises(KeyActionRefused, match="not under legal hold"):
        lift_legal_hold(actor=dana, client=client_, reason="nothing to lift")

    set_legal_hold(actor=dana, client=client_, reason=REASON)
    with pytest.raises(KeyActionRefused, match="already under legal hold"):
        set_legal_hold(actor=dana, client=client_, reason="again")


def test_a_shredded_client_cannot_be_held(client_, dana, adam):
    client_.retention_until = timezone.localdate() - timedelta(days=1)
    client_.save(update_fields=["retention_until"])
    approve_shredding(actor=adam, shredding=request_shredding(actor=dana, client=client_))

    with pytest.raises(KeyActionRefused, match="destroyed"):
        set_legal_hold(actor=dana, client=client_, reason=REASON)


def test_audit_events_name_the_client_by_code_only(client_, dana):
    set_legal_hold(actor=dana, client=client_, reason=REASON)

    record = json.loads(bytes(_events(client_, AuditAction.LEGAL_HOLD_SET).get().payload))
    assert record["client_code"] == client_.code
    assert client_.name not in json.dumps(record)
