"""The matter page: client, parties, team and documents, with actions that follow the grant level."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from access.models import GrantLevel
from matters.models import PartyRole
from tests.factories import ClientFactory, MatterFactory, PartyFactory, UserFactory, enroll, grant, make_document


def page_text(response) -> str:
    """What a reader sees: the page without tags, spaces collapsed."""
    assert response.status_code == 200
    return visible_text(response)


def visible_text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags))


def person(username: str, first: str):
    user = UserFactory(username=username, first_name=first, last_name="Test")
    enroll(user)
    return user


@pytest.fixture
def furnished(matter, alice):
    """Alice's matter with a client, parties, a team and two documents."""
    matter.client = ClientFactory(name="Meridian Logistics Ltd.", code="MER-01")
    matter.title = "Warehouse fire insurance claim"
    matter.description = "Claim against the insurer after the Pudong warehouse fire."
    matter.save()
    PartyFactory(matter=matter, name="Meridian Logistics Ltd.", role=PartyRole.CLIENT)
    PartyFactory(matter=matter, name="Great Wall Assurance", role=PartyRole.ADVERSE)
    PartyFactory(matter=matter, name="Pudong Fire Brigade", role=PartyRole.RELATED)
    team = Group.objects.create(name="Insurance litigation team")
    grant(team, matter, GrantLevel.DOWNLOAD)
    make_document(matter, title="Loss adjuster report", name="adjuster.pdf", uploader=alice)
    make_document(matter, title="Policy schedule", name="schedule.txt", content=b"Policy no. 123\n", uploader=alice)
    return matter


def test_the_page_shows_client_parties_team_and_documents(furnished, alice, login):
    text = page_text(login(alice).get(furnished.get_absolute_url()))

    assert "Warehouse fire insurance claim" in text
    assert "Claim against the insurer after the Pudong warehouse fire." in text
    assert "Meridian Logistics Ltd." in text
    assert "MER-01" in text
    assert "Great Wall Assurance · Adverse party" in text
    assert "Pudong Fire Brigade · Related party" in text
    assert "Meridian Logistics Ltd. · Client" in text
    # The team: people and groups with their level.
    assert "Alice Test · Manage" in text
    assert "Bob Test · View" in text
    assert "Group: Insurance litigation team · Download" in text
    # Documents with their file name, size and who added them.
    for expected in ("Loss adjuster report", "adjuster.pdf", "Policy schedule", "schedule.txt", "15 bytes"):
        assert expected in text


def test_a_lapsed_grant_is_not_shown_in_the_team(matter, login, alice):
    former = person("frank", "Frank")
    row = grant(former, matter, GrantLevel.EDIT, expires_at=timezone.now() + timedelta(days=1))
    type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    text = page_text(login(alice).get(matter.get_absolute_url()))

    assert "Frank Test" not in text
    assert "Bob Test · View" in text


def test_a_grant_with_an_end_shows_when_it_ends(matter, login, alice):
    temp = person("tina", "Tina")
    grant(temp, matter, GrantLevel.VIEW, expires_at=timezone.now() + timedelta(days=2))

    text = page_text(login(alice).get(matter.get_absolute_url()))

    assert "Tina Test · View · " in text
    assert timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M") in text


def test_a_matter_with_no_parties_or_documents_says_so(matter, alice, login):
    text = page_text(login(alice).get(matter.get_absolute_url()))

    assert "No parties recorded." in text
    assert "No documents yet." in text


@pytest.mark.parametrize(
    ("level", "sees_upload", "sees_download"),
    [
        (GrantLevel.VIEW, False, False),
        (GrantLevel.DOWNLOAD, False, True),
        (GrantLevel.EDIT, True, True),
        (GrantLevel.MANAGE, True, True),
    ],
)
def test_actions_follow_the_grant_level(matter, login, level, sees_upload, sees_download):
    document = make_document(matter, title="Pleading")
    member = person("member", "Member")
    grant(member, matter, level)

    response = login(member).get(matter.get_absolute_url())
    page = response.content.decode()

    upload_url = reverse("matters:document_upload", args=[matter.pk])
    download_url = reverse("matters:document_download", args=[document.pk])
    assert response.status_code == 200
    assert (f'href="{upload_url}"' in page) is sees_upload
    assert ("Add a document" in page) is sees_upload
    assert (f'href="{download_url}"' in page) is sees_download
    assert ("View only" in page) is not sees_download
    assert "Pleading" in page  # every level sees the document listed


def test_the_level_held_through_a_group_counts(matter, login):
    document = make_document(matter, title="Pleading")
    member = person("member", "Member")
    team = Group.objects.create(name="Editors")
    member.groups.add(team)
    grant(member, matter, GrantLevel.VIEW)
    grant(team, matter, GrantLevel.EDIT)  # the stronger of the two applies

    page = login(member).get(matter.get_absolute_url()).content.decode()

    assert f'href="{reverse("matters:document_upload", args=[matter.pk])}"' in page
    assert f'href="{reverse("matters:document_download", args=[document.pk])}"' in page


def test_alice_and_bob_see_the_matter(matter, alice, bob, login):
    for member in (alice, bob):
        text = page_text(login(member).get(matter.get_absolute_url()))
        assert matter.title in text


@pytest.mark.parametrize("persona", ["charlie", "dana", "adam", "root"])
def test_anyone_without_a_grant_gets_404(request, matter, login, persona):
    PartyFactory(matter=matter, name="Secret Adverse Holdings")
    outsider = request.getfixturevalue(persona)

    response = login(outsider).get(matter.get_absolute_url())

    assert response.status_code == 404
    text = visible_text(response)
    assert matter.title not in text
    assert matter.number not in text
    assert "Secret Adverse Holdings" not in text


def test_a_lapsed_grant_gives_404(matter, login):
    former = person("frank", "Frank")
    row = grant(former, matter, GrantLevel.MANAGE, expires_at=timezone.now() + timedelta(days=1))
    client = login(former)
    assert client.get(matter.get_absolute_url()).status_code == 200

    type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(matter.get_absolute_url()).status_code == 404


def test_a_matter_that_does_not_exist_looks_the_same_as_a_forbidden_one(matter, alice, charlie, login):
    missing = login(alice).get(reverse("matters:detail", args=[uuid.uuid4()]))
    forbidden = login(charlie).get(matter.get_absolute_url())

    assert missing.status_code == forbidden.status_code == 404
    for response in (missing, forbidden):
        assert "There is nothing here, or nothing you have access to." in visible_text(response)


def test_another_matter_of_the_same_client_stays_hidden(matter, bob, login):
    sibling = MatterFactory(client=matter.client, title="Sibling matter title")

    assert login(bob).get(sibling.get_absolute_url()).status_code == 404


def test_the_matter_page_runs_a_constant_number_of_queries(matter, alice, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PartyFactory, UserFactory, grant, make_document

    client = login(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(matter.get_absolute_url()).status_code == 200
        return len(captured)

    small = queries()
    for n in range(8):
        PartyFactory(matter=matter)
        make_document(matter, title=f"Exhibit {n}", uploader=alice)
        grant(UserFactory(), matter)
    # The page's reads, plus the view's transaction (a savepoint and its release in
    # a test) and the audit event's INSERT: the count must not grow with the matter.
    # 13 for the page, 1 for the navigation's badge counts (approvals, notifications), and 1
    # for the training gate of a CONFIDENTIAL matter and 1 for the person's ethical walls (each
    # asked once per request, whatever the actions), and 1 for the latest conflict check.
    assert queries() == small <= 17
