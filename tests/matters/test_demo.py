"""The demo firm (`manage.py seed_demo`): what a visitor is told to try is there, and loading twice changes nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from access.models import User
from matters.demo import CLIENTS, DOCUMENTS, MATTERS, seed_demo
from matters.models import Client, Document, IdentifierType, Matter, Party
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


def test_a_second_run_changes_nothing():
    seed_demo()
    before = stored_tables()

    seed_demo()

    assert stored_tables() == before
    assert Client.objects.count() == len(CLIENTS)
    assert Matter.objects.count() == len(MATTERS)
    assert sum(matter.documents.count() for matter in Matter.objects.all()) == len(DOCUMENTS)


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
        cursor.execute(f"SELECT id_number, contact_email, address FROM {Client._meta.db_table}")  # noqa: S608
        assert all(value.startswith(PREFIX) for row in cursor.fetchall() for value in row)
    kinds = {client.kind: client.id_type for client in Client.objects.all()}
    assert kinds == {"organization": IdentifierType.USCC, "individual": IdentifierType.ID_CARD}


def test_one_client_may_be_shredded_and_another_is_under_legal_hold_placed_by_the_security_officer():
    seed_demo()
    today = timezone.localdate()

    ended = [client for client in Client.objects.all() if client.retention_until < today]
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
