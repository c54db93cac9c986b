"""The demo firm (`manage.py seed_demo`): what a visitor is told to try is there, and loading twice changes nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from access.access_requests import capacities, deny_access_request, missing_capacities, pending_for
from access.models import (
    AccessApproval,
    AccessRequest,
    ApprovalCapacity,
    EmploymentStatus,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
    Role,
    User,
)
from access.services import end_access_of_departed_users
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters.demo import CLIENTS, DOCUMENTS, MATTERS, NO_SUCH_NUMBER, seed_demo
from matters.models import Classification, Client, Document, IdentifierType, Matter, Party
from vault.blind import blind_index
from vault.envelope import PREFIX
from vault.services import destroy_owner_data

pytestmark = pytest.mark.django_db


def stored_tables() -> dict:
    """Every row of every table as stored (encrypted values re-sealed would differ: fresh nonces)."""
    tables = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.label_lower.startswith(("audit.", "sessions.", "auditlog.")):
                continue  # what the run itself records
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (a model's own table name)
            tables[model._meta.label] = sorted(map(repr, cursor.fetchall()))
    return tables


def people(*names: str) -> list[User]:
    found = {user.username: user for user in User.objects.filter(username__in=names)}
    return [found[name] for name in names]


def test_a_second_run_changes_nothing():
    seed_demo()
    before = stored_tables()
    counts = [model.objects.count() for model in (AccessRequest, AccessApproval, Notification, MatterUserGrant)]

    seed_demo()

    assert stored_tables() == before
    # Plus the client and matter Bob opened at intake (matters.demo_walls), waiting for the conflicts partner.
    assert Client.objects.count() == len(CLIENTS) + 1
    assert Matter.objects.count() == len(MATTERS) + 1
    assert sum(matter.documents.count() for matter in Matter.objects.all()) == len(DOCUMENTS)
    assert [model.objects.count() for model in (AccessRequest, AccessApproval, Notification, MatterUserGrant)] == counts
    assert AccessRequest.objects.count() == 3


def test_charlie_s_request_for_a_confidential_matter_waits_in_alice_s_queue():
    seed_demo()
    alice, charlie, dana = people("alice", "charlie", "dana")

    waiting = AccessRequest.objects.get(requester=charlie, matter__isnull=False)

    assert waiting.status == RequestStatus.PENDING
    assert waiting.matter.classification == Classification.CONFIDENTIAL
    assert waiting.matter.responsible_partner == alice
    assert list(pending_for(alice).filter(requester=charlie)) == [waiting]
    assert capacities(alice, waiting) == {ApprovalCapacity.PARTNER}
    assert waiting not in pending_for(dana)
    assert Notification.objects.filter(recipient=alice, kind=NotificationKind.REQUEST_SUBMITTED).exists()


def test_bob_s_highly_confidential_request_has_alice_s_approval_and_waits_for_dana():
    seed_demo()
    alice, bob, dana = people("alice", "bob", "dana")

    waiting = AccessRequest.objects.get(requester=bob)

    assert waiting.status == RequestStatus.PENDING
    assert waiting.matter.classification == Classification.HIGHLY_CONFIDENTIAL
    assert waiting.matter.responsible_partner == alice
    assert [(a.approver, a.capacity) for a in waiting.approvals.all()] == [(alice, ApprovalCapacity.PARTNER)]
    assert missing_capacities(waiting) == ["security_officer"]
    assert waiting in pending_for(dana)
    assert capacities(dana, waiting) == {ApprovalCapacity.SECURITY_OFFICER}
    assert Notification.objects.filter(recipient=dana, kind=NotificationKind.REQUEST_NEEDS_SECOND).exists()
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_APPROVE, actor=alice).count() == 1


def test_charlie_s_request_for_a_number_no_matter_has_is_in_adam_s_queue_only():
    seed_demo()
    adam, alice, charlie = people("adam", "alice", "charlie")

    nowhere = AccessRequest.objects.get(requester=charlie, matter__isnull=True)

    assert nowhere.matter_number == NO_SUCH_NUMBER
    assert not Matter.objects.filter(number=NO_SUCH_NUMBER).exists()
    assert nowhere.status == RequestStatus.PENDING
    assert nowhere in pending_for(adam)
    assert nowhere not in pending_for(alice)
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_REQUEST, actor=charlie).count() == 2


def test_a_request_decided_in_the_demo_is_not_filed_again_by_the_next_load():
    seed_demo()
    adam, charlie = people("adam", "charlie")
    nowhere = AccessRequest.objects.get(requester=charlie, matter__isnull=True)
    deny_access_request(actor=adam, access_request=nowhere, reason="No such matter.")

    seed_demo()

    assert list(AccessRequest.objects.filter(matter_number=NO_SUCH_NUMBER).values_list("status", flat=True)) == [
        RequestStatus.DENIED
    ]


def test_bob_is_warned_of_a_grant_ending_this_week_with_a_link_to_renew_it():
    seed_demo()
    (bob,) = people("bob")
    now = timezone.now()

    ending = MatterUserGrant.objects.exclude(reason="Emergency access").get(user=bob, expires_at__isnull=False)
    warning = Notification.objects.get(recipient=bob, kind=NotificationKind.GRANT_EXPIRING)

    assert now < ending.expires_at <= now + timedelta(days=7)
    assert ending.expiry_warned_at is not None
    assert ending.granted_by == ending.content_object.responsible_partner
    assert warning.params["number"] == ending.content_object.number
    assert warning.url == f"{reverse('access:request_new')}?number={ending.content_object.number}"


def test_frank_leaves_in_two_weeks_and_his_manager_and_hr_are_told_what_was_revoked():
    seed_demo()
    alice, frank, harriet = people("alice", "frank", "harriet")
    today = timezone.localdate()

    assert frank.employment_status == EmploymentStatus.DEPARTING
    assert today < frank.departure_date <= today + timedelta(days=30)
    assert frank.manager == alice
    assert harriet.has_role(Role.HR)

    morning = timezone.make_aware(datetime.combine(frank.departure_date, time(9)))
    with time_machine.travel(morning, tick=False):
        end_access_of_departed_users()

    told = Notification.objects.filter(kind=NotificationKind.DEPARTURE, params__username="frank")
    assert sorted(note.recipient.username for note in told) == ["alice", "harriet"]
    assert not MatterUserGrant.objects.filter(user=frank).exists()


def test_a_demo_database_from_before_gives_frank_a_manager_and_a_departure_date():
    # As an earlier demo stored him: departing, but without a date or a manager.
    User.objects.create(username="frank", first_name="Frank", employment_status=EmploymentStatus.DEPARTING)

    seed_demo()

    frank = User.objects.get(username="frank")
    assert frank.departure_date > timezone.localdate()
    assert frank.manager == User.objects.get(username="alice")


def test_demo_clients_have_identifiers_contacts_and_retention_stored_encrypted():
    seed_demo()

    for spec in CLIENTS:
        client = Client.objects.get(code=spec.code)
        assert (client.name, client.id_type, client.id_number) == (spec.name, spec.id_type, spec.id_number)
        assert len(client.id_number) == 18
        assert client.contact_email and client.contact_phone and client.address
        assert client.retention_until == spec.retention_until
        assert client.id_number_index == blind_index(spec.id_number, "identifier")
    with connection.cursor() as cursor:
        codes = [spec.code for spec in CLIENTS]
        marks = ", ".join(["%s"] * len(codes))
        cursor.execute(
            f"SELECT id_number, contact_email, address FROM {Client._meta.db_table} WHERE code IN ({marks})",  # noqa: S608
            codes,
        )
        assert all(value.startswith(PREFIX) for row in cursor.fetchall() for value in row)
    kinds = {client.kind: client.id_type for client in Client.objects.all()}
    assert kinds == {"organization": IdentifierType.USCC, "individual": IdentifierType.ID_CARD}


def test_one_client_may_be_shredded_and_another_is_under_legal_hold_placed_by_the_security_officer():
    seed_demo()
    today = timezone.localdate()

    # Clients opened at intake (Orion) have no retention date until the matter is settled.
    ended = [client for client in Client.objects.exclude(retention_until=None) if client.retention_until < today]
    assert [client.legal_hold for client in ended] == [False]
    assert ended[0].matters.filter(documents__isnull=False).exists(), "shredding it shows a document answer 410"

    held = Client.objects.get(legal_hold=True)
    assert held.retention_until > today
    assert held.legal_hold_reason
    assert held.legal_hold_changed_by == User.objects.get(username="dana")
    assert held.legal_hold_changed_at is not None


def test_a_party_is_found_by_its_id_number_however_it_is_typed(login):
    seed_demo()
    party = next(party for party in Party.objects.all() if party.id_number and party.role == "adverse")

    # Full-width digits and spaces, as a Chinese input method may type them.
    typed = " ".join(party.id_number).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    response = login(User.objects.get(username="alice")).get(reverse("matters:list"), {"q": typed})

    assert party.matter.number in response.content.decode()
    assert Party.objects.filter(id_number_index=blind_index(typed, "identifier")).get() == party


def test_a_shredded_demo_client_is_left_alone_by_a_second_run():
    seed_demo()
    former = next(client for client in Client.objects.all() if client.retention_until < timezone.localdate())
    documents = Document.objects.filter(matter__client=former).count()
    destroy_owner_data(former.pk)
    Client.objects.filter(pk=former.pk).update(shredded_at=timezone.now())

    seed_demo()

    former.refresh_from_db()
    assert former.name.destroyed
    assert Document.objects.filter(matter__client=former).count() == documents


def test_a_demo_database_from_before_gets_the_new_details_and_keeps_what_was_changed():
    # As the demo stored clients before they had identifiers, and a hold since lifted by the officer.
    Client.objects.create(code="C-0001", name="Huaxin Technology Co., Ltd.")
    Client.objects.create(code="C-0002", name="Everbright Pharmaceuticals Group", legal_hold_changed_at=timezone.now())

    seed_demo()

    huaxin, everbright = Client.objects.get(code="C-0001"), Client.objects.get(code="C-0002")
    assert huaxin.id_number == CLIENTS[0].id_number
    assert huaxin.retention_until == CLIENTS[0].retention_until
    assert not everbright.legal_hold
    assert everbright.id_number == CLIENTS[1].id_number
