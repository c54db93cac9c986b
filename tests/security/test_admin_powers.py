"""What the administrator role can NOT do with the admin site: read a matter by the back door.

Adam (administrator) and Root (superuser) hold no grant. The admin lets them
manage people and grants; none of that may become a way to read Alice's
matter, take over her session or her account, or question hidden fields.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from access.models import GrantLevel, MatterUserGrant, UserSession
from matters.models import Classification
from tests.access.test_sign_in import sign_in
from tests.factories import PASSWORD, MatterFactory, grant


def _grant_form(grantee_field, grantee, matter, **extra):
    return {
        grantee_field: grantee.pk,
        "content_object": matter.pk,
        "level": GrantLevel.MANAGE.value,
        "reason": "I want to read it",
        "expires_at_0": "",
        "expires_at_1": "",
        **extra,
    }


def test_no_admin_page_shows_a_session_key(adam, alice, matter, login):
    sign_in(alice_browser := Client(), alice)
    key = alice_browser.session.session_key
    session = UserSession.objects.get(session_key=key)
    admin = login(adam)
    for url in (
        reverse("admin:access_usersession_changelist"),
        reverse("admin:access_usersession_change", args=[session.pk]),
    ):
        response = admin.get(url)
        assert response.status_code == 200
        assert key not in response.content.decode(), f"the session key is shown at {url}"


@pytest.mark.parametrize("persona", ["adam", "root"])
def test_nobody_grants_access_to_themselves(persona, matter, login, request):
    actor = request.getfixturevalue(persona)
    response = login(actor).post(reverse("admin:access_matterusergrant_add"), _grant_form("user", actor, matter))
    assertContains(response, "You cannot grant access to yourself.")
    assert not MatterUserGrant.objects.filter(user=actor).exists()
    assert login(actor).get(matter.get_absolute_url()).status_code == 404


def test_nobody_grants_access_to_a_group_they_belong_to(adam, matter, login):
    team = Group.objects.create(name="Adam's team")
    team.user_set.add(adam)
    response = login(adam).post(reverse("admin:access_mattergroupgrant_add"), _grant_form("group", team, matter))
    assertContains(response, "You cannot grant access to a group you belong to.")
    assert login(adam).get(matter.get_absolute_url()).status_code == 404


def test_an_administrator_cannot_change_their_own_account(adam, login):
    team = Group.objects.create(name="Litigation team")
    response = login(adam).post(
        reverse("admin:access_user_change", args=[adam.pk]),
        {"username": "adam", "groups": [team.pk], "is_active": "on", "employment_status": "active"},
    )
    assert response.status_code == 403
    assert not adam.groups.filter(pk=team.pk).exists()


def test_an_administrator_cannot_set_another_persons_password(adam, alice, login):
    response = login(adam).post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": "a brand new passphrase", "password2": "a brand new passphrase", "usable_password": "true"},
    )
    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_an_administrator_cannot_make_anyone_a_superuser_or_edit_staff(adam, alice, root, login):
    admin = login(adam)
    change = reverse("admin:access_user_change", args=[alice.pk])
    page = admin.get(change).content.decode()
    assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page
    admin.post(change, {"username": "alice", "is_superuser": "on", "is_staff": "on", "employment_status": "active"})
    alice.refresh_from_db()
    assert not alice.is_superuser and not alice.is_staff
    assert admin.post(reverse("admin:access_user_change", args=[root.pk]), {"username": "root"}).status_code == 403


def test_an_administrator_still_manages_ordinary_accounts(adam, bob, login):
    response = login(adam).post(
        reverse("admin:access_user_change", args=[bob.pk]),
        {
            "username": "bob",
            "first_name": "Bob",
            "last_name": "Test",
            "email": "bob@example.test",
            "is_active": "on",
            "department": "litigation",
            "employment_status": "departing",
            "departure_date": "2026-12-31",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    bob.refresh_from_db()
    assert bob.employment_status == "departing"


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:matters_matter_changelist", "title__startswith=Confidential"),
        ("admin:matters_matter_changelist", "description__icontains=a"),
        ("admin:matters_matter_changelist", "client__name__startswith=Client"),
        ("admin:access_user_changelist", "responsible_matters__title__startswith=C"),
        ("admin:access_matterusergrant_changelist", "content_object__title__startswith=C"),
        ("admin:access_matterusergrant_changelist", "reason__icontains=test"),
    ],
)
def test_admin_lists_refuse_lookups_on_fields_they_do_not_filter_by(url_name, query, root, matter, login):
    response = login(root).get(f"{reverse(url_name)}?{query}")
    assert response.status_code == 400


def test_admin_lists_still_filter_by_their_own_filters(root, matter, login):
    response = login(root).get(f"{reverse('admin:matters_matter_changelist')}?status__exact=open")
    assertContains(response, matter.number)


def test_the_admin_site_is_no_way_around_the_two_person_rule(adam, alice, bob, login):
    """A highly confidential matter is given only through a request its partner and the security officer approved."""
    secret = MatterFactory(responsible_partner=alice, classification=Classification.HIGHLY_CONFIDENTIAL)
    held = grant(alice, secret, GrantLevel.MANAGE)
    admin = login(adam)

    response = admin.post(reverse("admin:access_matterusergrant_add"), _grant_form("user", bob, secret))
    assertContains(response, "only through an access request approved by its responsible partner")
    assert not MatterUserGrant.objects.filter(user=bob, content_object=secret).exists()

    # Nor by editing a grant that exists: Alice's stays as it was.
    change = reverse("admin:access_matterusergrant_change", args=[held.pk])
    response = admin.post(change, _grant_form("user", alice, secret, reason="extend it"))
    assertContains(response, "only through an access request approved by its responsible partner")
    held.refresh_from_db()
    assert held.reason == "test"
    assert login(bob).get(secret.get_absolute_url()).status_code == 404
