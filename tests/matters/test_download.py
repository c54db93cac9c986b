"""Downloading a document: the exact file, as an attachment, only with a download grant."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from access.models import GrantLevel
from tests.factories import MatterFactory, UserFactory, enroll, grant, make_document

# Bytes that a text-mode or re-encoding path would alter (CR LF, NUL, high bytes).
CONTENT = b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\n" + bytes(range(256)) + b"\n%%EOF\n"


def download_url(document) -> str:
    return reverse("matters:document_download", args=[document.pk])


def body(response) -> bytes:
    # Reading to the end lets the test client close the file (and only the file).
    return b"".join(response.streaming_content)


def person(username: str):
    user = UserFactory(username=username, first_name=username.title(), last_name="Test")
    enroll(user)
    return user


@pytest.fixture
def document(matter, alice):
    return make_document(
        matter, title="Settlement draft", name="Settlement draft v2.pdf", content=CONTENT, uploader=alice
    )


def test_alice_downloads_the_exact_file_as_an_attachment_with_its_name(document, alice, login):
    response = login(alice).get(download_url(document))

    assert response.status_code == 200
    assert body(response) == CONTENT
    assert response["Content-Disposition"] == 'attachment; filename="Settlement draft v2.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(CONTENT))
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_name_outside_ascii_survives(matter, alice, login):
    document = make_document(matter, name="和解协议 草稿.txt", content="条款一\n".encode(), uploader=alice)

    response = login(alice).get(download_url(document))

    assert response.status_code == 200
    assert body(response) == "条款一\n".encode()
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%E5%92%8C%E8%A7%A3%E5%8D%8F%E8%AE%AE%20%E8%8D%89%E7%A8%BF.txt" in disposition


def test_a_name_with_quotes_cannot_break_the_header(matter, alice, login):
    document = make_document(matter, name='evil";\r\nX-Injected: yes.txt', content=b"plain\n", uploader=alice)

    response = login(alice).get(download_url(document))

    assert response.status_code == 200
    assert not response.has_header("X-Injected")
    assert re.match(r"^attachment; filename", response["Content-Disposition"])
    body(response)


@pytest.mark.parametrize("level", [GrantLevel.DOWNLOAD, GrantLevel.EDIT, GrantLevel.MANAGE])
def test_download_and_stronger_grants_may_download(document, login, level):
    member = person("member")
    grant(member, document.matter, level)

    response = login(member).get(download_url(document))

    assert response.status_code == 200
    assert body(response) == CONTENT


def test_a_download_grant_through_a_group_is_enough(document, bob, login):
    team = Group.objects.create(name="Litigation team")
    bob.groups.add(team)
    grant(team, document.matter, GrantLevel.DOWNLOAD)  # Bob's own grant is view-only

    response = login(bob).get(download_url(document))

    assert response.status_code == 200
    assert body(response) == CONTENT


def test_view_only_bob_gets_403_with_the_reason(document, bob, login):
    response = login(bob).get(download_url(document))

    assert response.status_code == 403
    assert b"Your access to this matter does not allow this." in response.content
    assert CONTENT not in response.content


@pytest.mark.parametrize("persona", ["charlie", "dana", "adam", "root"])
def test_anyone_without_a_grant_gets_404(request, document, login, persona):
    response = login(request.getfixturevalue(persona)).get(download_url(document))

    assert response.status_code == 404
    assert CONTENT not in response.content
    assert b"Settlement draft" not in response.content


def test_a_document_of_a_matter_alice_cannot_see_is_404_to_her(matter, alice, charlie, login):
    charlies_matter = MatterFactory(title="Charlie's deal")
    grant(charlie, charlies_matter, GrantLevel.MANAGE)
    foreign = make_document(charlies_matter, title="Term sheet", content=CONTENT, uploader=charlie)

    response = login(alice).get(download_url(foreign))

    assert response.status_code == 404
    assert CONTENT not in response.content


def test_an_unknown_document_is_404(matter, alice, login):
    response = login(alice).get(reverse("matters:document_download", args=[uuid.uuid4()]))

    assert response.status_code == 404


def test_a_lapsed_download_grant_stops_the_download_at_once(document, login):
    member = person("member")
    row = grant(member, document.matter, GrantLevel.DOWNLOAD, expires_at=timezone.now() + timedelta(hours=1))
    client = login(member)
    first = client.get(download_url(document))
    assert first.status_code == 200
    assert body(first) == CONTENT

    type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(download_url(document)).status_code == 404


def test_a_download_needs_the_second_factor(document, alice, client):
    client.force_login(alice)  # password only

    response = client.get(download_url(document))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:verify"))


def test_a_download_needs_a_sign_in(document, client):
    response = client.get(download_url(document))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))
