"""The admin site: second factor required, our sign-in only, matters as metadata, grants through the service."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant
from matters.models import Client, Document, Matter, Party, PartyRole
from tests.conftest import signed_in
from tests.factories import PASSWORD, PartyFactory, make_document


def visible_text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags))


@pytest.fixture
def secrets_matter(matter, alice):
    """Alice's matter with distinctive client information that must never reach the admin."""
    matter.title = "Project Nightingale takeover"
    matter.description = "Hostile bid for Kestrel Mining; board not yet informed."
    matter.save()
    matter.client.name = "Osprey Capital Partners"
    matter.client.save()
    PartyFactory(matter=matter, name="Kestrel Mining plc", role=PartyRole.ADVERSE)
    PartyFactory(matter=matter, name="Falcon Trust Bank", role=PartyRole.RELATED)
    make_document(matter, title="Bid strategy memorandum", name="bid-memo.pdf", uploader=alice)
    return matter


SECRETS = (
    "Project Nightingale",
    "Hostile bid for Kestrel",
    "Osprey Capital",
    "Kestrel Mining",
    "Falcon Trust",
    "Bid strategy memorandum",
    "bid-memo.pdf",
)


def assert_no_client_information(response) -> None:
    page = html.unescape(response.content.decode())
    for secret in SECRETS:
        assert secret not in page, f"{secret!r} shown on {response.wsgi_request.path}"


# --- getting in ------------------------------------------------------------------------------


def test_staff_signed_in_with_a_password_only_are_sent_to_the_second_factor(adam, client):
    client.force_login(adam)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:verify"))
    followed = client.get(reverse("admin:index"), follow=True)
    assert "Custos administration" not in visible_text(followed)


def test_a_superuser_signed_in_with_a_password_only_cannot_reach_a_model_page(root, client):
    client.force_login(root)

    response = client.get(reverse("admin:access_matterusergrant_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:verify"))


def test_staff_with_both_factors_reach_the_admin(adam, login):
    response = login(adam).get(reverse("admin:index"))

    assert response.status_code == 200
    assert "Custos administration" in visible_text(response)


def test_non_staff_with_both_factors_are_kept_out(charlie, dana, login):
    for person in (charlie, dana):
        client = login(person)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302, person.username
        followed = client.get(reverse("admin:index"), follow=True)
        assert "Users, roles, grants and jobs" not in visible_text(followed)  # the admin index's title


def test_the_admin_login_page_sends_everyone_to_our_sign_in(client, db):
    response = client.get(reverse("admin:login"), {"next": "/admin/access/user/"}, follow=True)

    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("access:login")
    assert 'name="password"' in response.content.decode()
    assert "Custos administration" not in visible_text(response)  # not the admin's own form


def test_the_admin_login_page_does_not_accept_a_password(adam, client):
    response = client.post(reverse("admin:login"), {"username": "adam", "password": PASSWORD})

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("access:login")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_an_administrator_who_opens_the_admin_signs_in_once(adam, client):
    """Anonymous → /admin/ → our sign-in; after password and code they land in the admin,
    not on a second sign-in form."""
    to_sign_in = client.get(reverse("admin:index"), follow=True)
    assert to_sign_in.request["PATH_INFO"] == reverse("access:login")
    next_url = parse_qs(to_sign_in.request["QUERY_STRING"])["next"][0]

    signed_in(client, adam)  # what the sign-in and verify pages do; verify then redirects to next
    landed = client.get(next_url, follow=True)

    assert landed.request["PATH_INFO"] == reverse("admin:index")
    assert "Users, roles, grants and jobs" in visible_text(landed)


def test_a_verified_administrator_on_the_admin_login_url_goes_to_the_admin(adam, login):
    landed = login(adam).get(reverse("admin:login"), {"next": reverse("admin:index")}, follow=True)

    assert landed.request["PATH_INFO"] == reverse("admin:index")


# --- what is registered --------------------------------------------------------------------------


@pytest.mark.parametrize("model", [Client, Party, Document, TOTPDevice, StaticDevice, StaticToken])
def test_client_information_and_second_factor_secrets_are_not_in_the_admin(model):
    assert not admin.site.is_registered(model)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/matters/client/",
        "/admin/matters/party/",
        "/admin/matters/document/",
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
    ],
)
def test_their_admin_pages_do_not_exist_even_for_the_superuser(root, login, path):
    assert login(root).get(path).status_code == 404


def test_the_admin_index_does_not_offer_them(root, login):
    text = visible_text(login(root).get(reverse("admin:index")))

    for label in ("Clients", "Parties", "Documents", "TOTP devices", "Static devices"):
        assert label not in text


# --- matters as metadata ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["adam", "root"])
def test_the_matter_changelist_shows_metadata_only(request, secrets_matter, login, persona):
    response = login(request.getfixturevalue(persona)).get(reverse("admin:matters_matter_changelist"))

    assert response.status_code == 200
    text = visible_text(response)
    assert secrets_matter.number in text
    assert "Confidential" in text
    assert "Open" in text
    assert_no_client_information(response)


@pytest.mark.parametrize("persona", ["adam", "root"])
def test_the_matter_page_shows_metadata_only(request, secrets_matter, login, persona):
    response = login(request.getfixturevalue(persona)).get(
        reverse("admin:matters_matter_change", args=[secrets_matter.pk])
    )

    assert response.status_code == 200
    text = visible_text(response)
    assert secrets_matter.number in text
    assert "Confidential" in text
    assert "Open" in text
    assert_no_client_information(response)


def test_searching_matters_in_the_admin_does_not_search_titles_or_clients(secrets_matter, root, login):
    client = login(root)

    by_title = client.get(reverse("admin:matters_matter_changelist"), {"q": "Nightingale"})
    by_client = client.get(reverse("admin:matters_matter_changelist"), {"q": "Osprey"})
    by_number = client.get(reverse("admin:matters_matter_changelist"), {"q": secrets_matter.number})

    # A search that matched would confirm the secret word belongs to some matter.
    assert secrets_matter.number not in visible_text(by_title)
    assert secrets_matter.number not in visible_text(by_client)
    assert secrets_matter.number in visible_text(by_number)


def test_the_grant_forms_matter_autocomplete_answers_with_numbers_only(secrets_matter, adam, login):
    client = login(adam)
    params = {"app_label": "access", "model_name": "matterusergrant", "field_name": "content_object"}

    found = client.get(reverse("admin:autocomplete"), {**params, "term": secrets_matter.number[-5:]})
    by_title = client.get(reverse("admin:autocomplete"), {**params, "term": "Nightingale"})

    assert found.status_code == 200
    assert [item["text"] for item in found.json()["results"]] == [secrets_matter.number]
    assert by_title.json()["results"] == []
    assert_no_client_information(found)


@pytest.mark.parametrize("persona", ["adam", "root"])
def test_the_matter_admin_cannot_add_change_or_delete(request, secrets_matter, login, persona):
    client = login(request.getfixturevalue(persona))
    change_url = reverse("admin:matters_matter_change", args=[secrets_matter.pk])
    number = secrets_matter.number

    assert client.get(reverse("admin:matters_matter_add")).status_code == 403
    assert client.post(reverse("admin:matters_matter_add"), {"number": "NEW-1"}).status_code == 403
    assert client.get(reverse("admin:matters_matter_delete", args=[secrets_matter.pk])).status_code == 403
    assert (
        client.post(reverse("admin:matters_matter_delete", args=[secrets_matter.pk]), {"post": "yes"}).status_code
        == 403
    )
    changed = client.post(change_url, {"number": "HIJACKED", "classification": 10, "status": "closed"})
    assert changed.status_code == 403
    bulk = client.post(
        reverse("admin:matters_matter_changelist"),
        {"action": "delete_selected", "_selected_action": [secrets_matter.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)

    secrets_matter.refresh_from_db()
    assert secrets_matter.number == number
    assert secrets_matter.status == "open"
    assert Matter.objects.filter(pk=secrets_matter.pk).exists()
    assert not Matter.objects.filter(number="NEW-1").exists()
    page = visible_text(client.get(change_url))
    assert "Save" not in page
    assert "Delete" not in page


# --- grants through the admin ------------------------------------------------------------------


def test_an_administrator_grants_access_through_the_grant_admin(secrets_matter, adam, charlie, login):
    client = login(adam)
    add_url = reverse("admin:access_matterusergrant_add")

    form = client.get(add_url)
    assert form.status_code == 200
    assert 'name="level"' in form.content.decode()
    assert 'name="reason"' in form.content.decode()
    assert 'name="permission"' not in form.content.decode()  # a level, not a raw permission

    response = client.post(
        add_url,
        {"user": charlie.pk, "content_object": secrets_matter.pk, "level": GrantLevel.DOWNLOAD, "reason": "Staffing"},
    )

    assert response.status_code == 302
    created = MatterUserGrant.objects.get(user=charlie, content_object=secrets_matter)
    assert created.permission.codename == "download_matter"
    assert created.level == GrantLevel.DOWNLOAD
    assert created.granted_by == adam
    assert created.reason == "Staffing"
    assert created.expires_at is None
    # The grant works: Charlie now sees the matter and may download.
    charlie_client = login(charlie)
    assert charlie_client.get(secrets_matter.get_absolute_url()).status_code == 200
    document = secrets_matter.documents.get()
    download = charlie_client.get(reverse("matters:document_download", args=[document.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize("level", list(GrantLevel))
def test_each_level_maps_to_its_permission(secrets_matter, adam, charlie, login, level):
    login(adam).post(
        reverse("admin:access_matterusergrant_add"),
        {"user": charlie.pk, "content_object": secrets_matter.pk, "level": level.value, "reason": "Cover"},
    )

    assert MatterUserGrant.objects.get(user=charlie).permission.codename == level.value


def test_a_group_grant_is_made_the_same_way(secrets_matter, adam, charlie, login):
    team = Group.objects.create(name="Deal team")
    charlie.groups.add(team)

    response = login(adam).post(
        reverse("admin:access_mattergroupgrant_add"),
        {"group": team.pk, "content_object": secrets_matter.pk, "level": GrantLevel.VIEW, "reason": "Deal work"},
    )

    assert response.status_code == 302
    created = MatterGroupGrant.objects.get(group=team)
    assert created.granted_by == adam
    assert created.level == GrantLevel.VIEW
    assert login(charlie).get(secrets_matter.get_absolute_url()).status_code == 200


def test_a_grant_needs_a_reason(secrets_matter, adam, charlie, login):
    response = login(adam).post(
        reverse("admin:access_matterusergrant_add"),
        {"user": charlie.pk, "content_object": secrets_matter.pk, "level": GrantLevel.VIEW, "reason": ""},
    )

    assert response.status_code == 200
    assert "This field is required." in visible_text(response)
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_a_grant_cannot_expire_in_the_past(secrets_matter, adam, charlie, login):
    response = login(adam).post(
        reverse("admin:access_matterusergrant_add"),
        {
            "user": charlie.pk,
            "content_object": secrets_matter.pk,
            "level": GrantLevel.VIEW,
            "reason": "Short job",
            "expires_at_0": "2001-01-01",
            "expires_at_1": "09:00:00",
        },
    )

    assert response.status_code == 200
    assert "The expiry must be in the future." in visible_text(response)
    assert "was added successfully" not in visible_text(response)
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_changing_a_grants_level_in_the_admin_goes_through_the_service(matter, adam, bob, login):
    existing = MatterUserGrant.objects.get(user=bob, content_object=matter)

    response = login(adam).post(
        reverse("admin:access_matterusergrant_change", args=[existing.pk]),
        {"level": GrantLevel.EDIT, "reason": "Now drafting"},
    )

    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.level == GrantLevel.EDIT
    assert existing.granted_by == adam
    assert existing.reason == "Now drafting"


def test_revoking_a_grant_in_the_admin_takes_the_matter_away(matter, adam, bob, login):
    existing = MatterUserGrant.objects.get(user=bob, content_object=matter)

    response = login(adam).post(reverse("admin:access_matterusergrant_delete", args=[existing.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not MatterUserGrant.objects.filter(pk=existing.pk).exists()
    assert login(bob).get(matter.get_absolute_url()).status_code == 404


def test_granting_in_the_admin_does_not_give_the_administrator_access(secrets_matter, adam, charlie, login):
    login(adam).post(
        reverse("admin:access_matterusergrant_add"),
        {"user": charlie.pk, "content_object": secrets_matter.pk, "level": GrantLevel.MANAGE, "reason": "Lead"},
    )

    assert login(adam).get(secrets_matter.get_absolute_url()).status_code == 404


def test_the_grant_pages_name_the_matter_by_number_only(secrets_matter, adam, login):
    client = login(adam)
    existing = MatterUserGrant.objects.filter(content_object=secrets_matter).first()

    for url in (
        reverse("admin:access_matterusergrant_changelist"),
        reverse("admin:access_matterusergrant_change", args=[existing.pk]),
        reverse("admin:access_matterusergrant_delete", args=[existing.pk]),
        reverse("admin:access_matterusergrant_history", args=[existing.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert secrets_matter.number in visible_text(response), url
        assert_no_client_information(response)


def test_grants_are_filtered_by_level_not_by_every_permission_codename(root, matter, login):
    client = login(root)
    listing = client.get(reverse("admin:access_matterusergrant_changelist"))
    assert "add_accessattempt" not in listing.content.decode()
    assert 'href="?level=manage_matter"' in listing.content.decode()
    managed = client.get(reverse("admin:access_matterusergrant_changelist") + "?level=manage_matter")
    assert visible_text(managed).count(matter.number) == 1  # Alice's grant; Bob's is view-only
