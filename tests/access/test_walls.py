"""Ethical walls as services: erecting one revokes exactly the conflicting grants, the screened
person is refused (and the refusal is evidence), lifting gives nothing back, the memo is acknowledged."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.urls import reverse

from access.models import (
    EmploymentStatus,
    EthicalWall,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    Role,
    WallAcknowledgement,
    WallKind,
    WallMember,
)
from access.policy import count_visible_matters, visible_matters
from access.services import grant_matter_access
from access.wall_services import (
    REVOKED_BY_WALL,
    acknowledge_memo,
    blocked_team_grants,
    erect_wall,
    lift_wall,
    screening_wall,
)
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from tests.factories import MatterFactory, UserFactory, enroll, grant, make_document

REASON = "Acme Holdings is suing Brightstar, our client on the other matter"
MEMO = "Do not discuss the Brightstar dispute with anyone on the Acme team."


@pytest.fixture
def connie(db):
    """A conflicts partner: erects walls with the security officer."""
    user = UserFactory(username="connie", first_name="Connie", last_name="Test", roles=(Role.CONFLICTS, Role.PARTNER))
    enroll(user)
    return user


@pytest.fixture
def sibling(matter):
    """Another matter of the same client."""
    return MatterFactory(client=matter.client, number="2026-T-90001")


@pytest.fixture
def elsewhere(db):
    """A matter of another client."""
    return MatterFactory(number="2026-T-90002")


def team(name: str, *members) -> Group:
    group = Group.objects.create(name=name)
    group.user_set.add(*members)
    return group


def holds(user, matter) -> bool:
    return MatterUserGrant.objects.filter(user=user, content_object=matter).exists()


def group_holds(group, matter) -> bool:
    return MatterGroupGrant.objects.filter(group=group, content_object=matter).exists()


def events(action, outcome=Outcome.SUCCESS) -> list[dict]:
    return [event.record for event in AuditEvent.objects.filter(action=action, outcome=outcome).order_by("pk")]


def erect(actor, kind, matter=None, *, client=None, people=(), groups=(), **extra):
    return erect_wall(
        actor=actor,
        kind=kind,
        client=client or matter.client,
        matter=matter,
        people=people,
        groups=groups,
        reason=extra.pop("reason", REASON),
        memo=extra.pop("memo", MEMO),
        **extra,
    )


def notes(user, kind) -> list[Notification]:
    return list(user.notifications.filter(kind=kind).order_by("pk"))


# --- Exclusionary ---------------------------------------------------------------------------


def test_an_exclusionary_wall_revokes_exactly_the_conflicting_grants(
    matter, sibling, elsewhere, alice, bob, charlie, dana
):
    grant(charlie, matter, GrantLevel.VIEW)
    grant(charlie, sibling, GrantLevel.EDIT)
    grant(charlie, elsewhere, GrantLevel.VIEW)
    falcon_member = UserFactory(username="fiona")
    falcon = team("Falcon team", falcon_member)
    grant(falcon, matter, GrantLevel.DOWNLOAD)
    grant(falcon, elsewhere, GrantLevel.VIEW)
    litigation = team("Litigation team", charlie, bob)
    grant(litigation, matter, GrantLevel.VIEW)

    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie], groups=[falcon])

    # Revoked: Charlie's own grant and the named team's, on the walled matter only.
    assert not holds(charlie, matter)
    assert not group_holds(falcon, matter)
    # Kept: the same people's grants on other matters, everyone else's, and the team Charlie is in.
    assert holds(charlie, sibling) and holds(charlie, elsewhere)
    assert group_holds(falcon, elsewhere)
    assert holds(alice, matter) and holds(bob, matter)
    assert group_holds(litigation, matter)
    assert wall.revoked_grants == [
        {"user_id": charlie.pk, "matter_id": str(matter.pk), "matter_number": matter.number, "level": "view_matter"},
        {
            "group_id": falcon.pk,
            "matter_id": str(matter.pk),
            "matter_number": matter.number,
            "level": "download_matter",
        },
    ]
    assert EthicalWall.objects.get(pk=wall.pk).revoked_grants == wall.revoked_grants
    # The team Charlie is in keeps its grant, listed as blocked for its one screened member.
    [blocked] = blocked_team_grants(wall)
    assert (blocked.group, blocked.screened) == (litigation, 1)
    revocations = events(AuditAction.GRANT_REVOKE)
    assert [(r["detail"].get("user_id"), r["detail"].get("group_id"), r["reason"]) for r in revocations] == [
        (charlie.pk, None, REVOKED_BY_WALL),
        (None, falcon.pk, REVOKED_BY_WALL),
    ]
    assert all(r["actor"] == "dana" for r in revocations)


def test_the_people_named_are_screened_from_the_matter_but_not_from_others(matter, sibling, charlie, dana):
    litigation = team("Litigation team", charlie)
    grant(litigation, matter, GrantLevel.VIEW)
    grant(litigation, sibling, GrantLevel.VIEW)

    erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])

    assert list(visible_matters(charlie)) == [sibling]
    assert count_visible_matters(charlie) == 1


def test_a_group_named_screens_its_members_and_loses_their_direct_grants_too(matter, charlie, dana):
    grant(charlie, matter, GrantLevel.VIEW)
    falcon = team("Falcon team", charlie)

    wall = erect(dana, WallKind.EXCLUSIONARY, matter, groups=[falcon])

    assert not holds(charlie, matter)
    assert [entry.get("user_id") for entry in wall.revoked_grants] == [charlie.pk]
    assert count_visible_matters(charlie) == 0


def test_a_wall_around_a_client_revokes_on_every_matter_of_the_client_and_no_other(
    matter, sibling, elsewhere, charlie, connie
):
    for walled in (matter, sibling, elsewhere):
        grant(charlie, walled, GrantLevel.VIEW)

    wall = erect(connie, WallKind.EXCLUSIONARY, client=matter.client, people=[charlie])

    assert not holds(charlie, matter) and not holds(charlie, sibling)
    assert holds(charlie, elsewhere)
    assert sorted(entry["matter_number"] for entry in wall.revoked_grants) == sorted([matter.number, sibling.number])
    assert wall.matter is None


def test_a_wall_around_a_client_covers_a_matter_opened_later(matter, charlie, dana, login):
    wall = erect(dana, WallKind.EXCLUSIONARY, client=matter.client, people=[charlie])
    later = MatterFactory(client=matter.client, number="2026-T-90077")
    grant(team("Litigation team", charlie), later, GrantLevel.VIEW)  # the team keeps access; Charlie does not

    assert login(charlie).get(later.get_absolute_url()).status_code == 404
    assert count_visible_matters(charlie) == 0
    assert screening_wall(matter=later, user=charlie) == wall


def test_the_erect_event_counts_and_names_no_reason_nor_memo(matter, charlie, dana):
    grant(charlie, matter, GrantLevel.VIEW)

    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])

    [record] = events(AuditAction.WALL_ERECT)
    assert record["actor"] == "dana"
    assert record["matter_number"] == matter.number
    assert record["client_code"] == matter.client.code
    assert record["detail"]["wall_id"] == str(wall.pk)
    assert record["detail"]["kind"] == "exclusionary"
    assert record["detail"]["revoked"] == 1
    assert record["detail"]["user_ids"] == [charlie.pk]
    text = json.dumps(record)
    assert "Acme" not in text and "Brightstar" not in text


def test_the_reason_and_memo_are_stored_encrypted(matter, charlie, dana):
    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])

    stored = EthicalWall.objects.filter(pk=wall.pk).values_list("reason", "memo").get()
    assert all("Acme" not in value.text and "Brightstar" not in value.text for value in stored)
    assert EthicalWall.objects.get(pk=wall.pk).memo == MEMO


def test_the_people_named_get_the_memo_and_those_revoked_are_told(matter, bob, charlie, dana):
    grant(charlie, matter, GrantLevel.VIEW)
    fiona = UserFactory(username="fiona")
    falcon = team("Falcon team", fiona)
    grant(falcon, matter, GrantLevel.VIEW)

    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie], groups=[falcon])

    memo_url = reverse("access:wall_acknowledge", args=[wall.pk])
    for person in (charlie, fiona):
        [memo] = notes(person, NotificationKind.WALL_MEMO)
        assert (memo.url, memo.params) == (memo_url, {"kind": "exclusionary", "number": matter.number})
        [revoked] = notes(person, NotificationKind.WALL_REVOKED)
        assert revoked.params == {"number": matter.number}
    assert not bob.notifications.exists()
    assert "Acme" not in json.dumps(list(Notification.objects.values_list("params", flat=True)))


# --- Inclusionary ---------------------------------------------------------------------------


def test_an_inclusionary_wall_revokes_every_grant_but_those_of_the_people_and_teams_it_names(
    matter, elsewhere, alice, bob, charlie, dana
):
    core = team("Core team", bob)
    other_member = UserFactory(username="olga")
    other = team("Other team", other_member)
    grant(charlie, matter, GrantLevel.EDIT)
    grant(core, matter, GrantLevel.VIEW)
    grant(other, matter, GrantLevel.VIEW)
    grant(charlie, elsewhere, GrantLevel.VIEW)
    grant(other, elsewhere, GrantLevel.VIEW)

    wall = erect(dana, WallKind.INCLUSIONARY, matter, people=[alice], groups=[core])

    # Kept: Alice (named), Bob (named through the core team: his own grant too), the core team.
    assert holds(alice, matter) and holds(bob, matter) and group_holds(core, matter)
    # Revoked: Charlie's grant and the other team's, on this matter only.
    assert not holds(charlie, matter) and not group_holds(other, matter)
    assert holds(charlie, elsewhere) and group_holds(other, elsewhere)
    assert [(entry.get("user_id"), entry.get("group_id")) for entry in wall.revoked_grants] == [
        (charlie.pk, None),
        (None, other.pk),
    ]
    assert [n.params for n in notes(other_member, NotificationKind.WALL_REVOKED)] == [{"number": matter.number}]
    assert [n.params for n in notes(bob, NotificationKind.WALL_MEMO)] == [
        {"kind": "inclusionary", "number": matter.number}
    ]
    assert not blocked_team_grants(wall).exists()


def test_an_inclusionary_wall_keeps_out_whoever_it_does_not_name(matter, alice, bob, charlie, dana):
    late = team("Late team", charlie)
    erect(dana, WallKind.INCLUSIONARY, matter, people=[alice, bob])
    with pytest.raises(ValidationError):  # a grant through the services is refused…
        grant(late, matter, GrantLevel.VIEW)
    # …and one written around them (an import, the admin's raw tables) still opens nothing.
    MatterGroupGrant.objects.create(
        group=late, content_object=matter, permission=Permission.objects.get(codename=GrantLevel.VIEW)
    )

    assert count_visible_matters(charlie) == 0
    assert count_visible_matters(bob) == 1


# --- The screened person is refused, and the refusal is evidence ---------------------------


def test_the_screened_person_gets_not_found_on_the_matter_and_its_documents(matter, alice, charlie, dana, login):
    document = make_document(matter, uploader=alice)
    litigation = team("Litigation team", charlie)
    grant(litigation, matter, GrantLevel.DOWNLOAD)
    other = MatterFactory(number="2026-T-90003")
    grant(charlie, other, GrantLevel.VIEW)
    erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])
    browser = login(charlie)

    assert browser.get(matter.get_absolute_url()).status_code == 404
    assert browser.get(reverse("matters:document_detail", args=[document.pk])).status_code == 404
    assert browser.get(reverse("matters:document_download", args=[document.pk])).status_code == 404
    listing = browser.get(reverse("matters:list"))
    assert listing.status_code == 200
    assert matter.number not in listing.content.decode()
    assert other.number in listing.content.decode()
    assert list(visible_matters(charlie)) == [other]
    denials = events(AuditAction.MATTER_VIEW, Outcome.DENIED)
    assert [(d["actor"], d["matter_number"], d["detail"]) for d in denials] == [
        ("charlie", matter.number, {"screened": True})
    ]
    document_denials = AuditEvent.objects.filter(outcome=Outcome.DENIED, document_id__isnull=False)
    assert document_denials.count() == 2
    assert all(event.record["detail"] == {"screened": True} for event in document_denials)


# --- Who may, and what cannot make a wall -------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "adam", "root", "harriet"])
def test_only_the_security_officer_and_conflicts_partners_erect_and_lift(request, persona, matter, charlie, dana):
    actor = request.getfixturevalue(persona)
    grant(charlie, matter, GrantLevel.VIEW)

    with pytest.raises(PermissionDenied):
        erect(actor, WallKind.EXCLUSIONARY, matter, people=[charlie])
    assert not EthicalWall.objects.exists()
    assert holds(charlie, matter)

    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])
    with pytest.raises(PermissionDenied):
        lift_wall(actor=actor, wall=wall, reason="over")
    assert EthicalWall.objects.get().is_live


def test_a_conflicts_partner_may(matter, charlie, connie):
    wall = erect(connie, WallKind.EXCLUSIONARY, matter, people=[charlie])
    assert wall.erected_by == connie
    lift_wall(actor=connie, wall=wall, reason="The matter settled.")


def refused(**kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        erect_wall(**kwargs)
    return caught.value.message_dict


def test_what_cannot_make_a_wall_is_refused_and_nothing_is_written(matter, elsewhere, charlie, dana):
    grant(charlie, matter, GrantLevel.VIEW)
    base = {
        "actor": dana,
        "kind": WallKind.EXCLUSIONARY,
        "client": matter.client,
        "matter": matter,
        "people": [charlie],
        "reason": REASON,
        "memo": MEMO,
    }

    assert "reason" in refused(**{**base, "reason": "  "})
    assert "memo" in refused(**{**base, "memo": ""})
    assert "matter" in refused(**{**base, "matter": elsewhere})
    assert NON_FIELD_ERRORS in refused(**{**base, "people": []})
    assert "kind" in refused(**{**base, "kind": "sideways"})
    assert "groups" in refused(**{**base, "groups": [Group.objects.get_or_create(name=Role.LAWYER.value)[0]]})

    assert not EthicalWall.objects.exists()
    assert not WallMember.objects.exists()
    assert holds(charlie, matter)
    assert not events(AuditAction.WALL_ERECT)
    assert not events(AuditAction.GRANT_REVOKE)
    assert not Notification.objects.exists()


def test_an_inclusionary_wall_must_let_someone_in_who_can_work(matter, alice, dana):
    gone = UserFactory(username="gone", employment_status=EmploymentStatus.DEPARTED)
    empty = team("Empty team")

    errors = refused(
        actor=dana,
        kind=WallKind.INCLUSIONARY,
        client=matter.client,
        matter=matter,
        people=[gone],
        groups=[empty],
        reason=REASON,
        memo=MEMO,
    )

    assert NON_FIELD_ERRORS in errors
    assert holds(alice, matter)
    assert not EthicalWall.objects.exists()


def test_acknowledgement_follows_the_setting_unless_given(matter, bob, dana, settings):
    settings.WALLS_REQUIRE_ACKNOWLEDGEMENT = True
    assert erect(dana, WallKind.INCLUSIONARY, matter, people=[bob]).requires_acknowledgement
    assert not erect(
        dana, WallKind.INCLUSIONARY, matter, people=[bob], requires_acknowledgement=False
    ).requires_acknowledgement
    settings.WALLS_REQUIRE_ACKNOWLEDGEMENT = False
    assert not erect(dana, WallKind.INCLUSIONARY, matter, people=[bob]).requires_acknowledgement


# --- New grants against a wall -------------------------------------------------------------------


def test_the_wall_a_new_grant_would_conflict_with(matter, elsewhere, alice, bob, charlie, dana):
    falcon = team("Falcon team", charlie)
    core = team("Core team", bob)
    other = team("Other team")
    exclusionary = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])
    inclusionary = erect(dana, WallKind.INCLUSIONARY, elsewhere, people=[alice], groups=[core])

    assert screening_wall(matter=matter, user=charlie) == exclusionary
    assert screening_wall(matter=matter, user=bob) is None
    assert screening_wall(matter=matter, group=falcon) is None  # the team keeps its grant; Charlie is blocked
    assert screening_wall(matter=elsewhere, user=charlie) == inclusionary
    assert screening_wall(matter=elsewhere, user=bob) is None  # through the core team
    assert screening_wall(matter=elsewhere, group=core) is None
    assert screening_wall(matter=elsewhere, group=other) == inclusionary


# --- Lifting -------------------------------------------------------------------------------------


def test_lifting_gives_nothing_back_but_the_policy_no_longer_blocks(matter, alice, charlie, dana, login):
    grant(charlie, matter, GrantLevel.VIEW)
    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])

    lifted = lift_wall(actor=dana, wall=wall, reason="The Acme dispute settled.")

    assert (lifted.lifted_by, lifted.lift_reason) == (dana, "The Acme dispute settled.")
    assert lifted.lifted_at is not None
    assert list(lifted.members.values_list("user", flat=True)) == [charlie.pk]
    assert lifted.revoked_grants  # history kept
    assert not holds(charlie, matter)  # nothing restored
    assert screening_wall(matter=matter, user=charlie) is None
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="back on the team", user=charlie)
    assert login(charlie).get(matter.get_absolute_url()).status_code == 200
    [record] = events(AuditAction.WALL_LIFT)
    assert record["detail"] == {"wall_id": str(wall.pk), "kind": "exclusionary", "scope": "matter"}
    assert "Acme" not in json.dumps(record)


def test_lifting_needs_a_reason_and_a_live_wall(matter, charlie, dana):
    wall = erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])

    with pytest.raises(ValidationError) as blank:
        lift_wall(actor=dana, wall=wall, reason=" ")
    assert "reason" in blank.value.message_dict
    assert EthicalWall.objects.get().is_live

    lift_wall(actor=dana, wall=wall, reason="over")
    with pytest.raises(ValidationError):
        lift_wall(actor=dana, wall=wall, reason="again")
    assert len(events(AuditAction.WALL_LIFT)) == 1


# --- The memo ----------------------------------------------------------------------------------------


def test_the_memo_is_acknowledged_once_by_someone_named_directly_or_through_a_team(matter, alice, bob, charlie, dana):
    core = team("Core team", bob)
    wall = erect(dana, WallKind.INCLUSIONARY, matter, people=[alice], groups=[core], requires_acknowledgement=True)

    acknowledge_memo(user=alice, wall=wall)
    acknowledge_memo(user=alice, wall=wall)
    acknowledge_memo(user=bob, wall=wall)
    with pytest.raises(PermissionDenied):
        acknowledge_memo(user=charlie, wall=wall)

    assert sorted(WallAcknowledgement.objects.values_list("user__username", flat=True)) == ["alice", "bob"]
    assert [r["actor"] for r in events(AuditAction.WALL_ACKNOWLEDGE)] == ["alice", "bob"]


# --- What else a new wall overtakes -------------------------------------------------------------


def test_a_request_the_wall_overtakes_stays_pending_and_cannot_be_approved(matter, adam, charlie, dana):
    """Not denied by the wall: a request for a number no matter has stays pending too, and a
    different answer would tell the requester the number is real (and walled)."""
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from access.access_requests import approve_access_request, request_access
    from access.models import AccessRequest, RequestStatus

    ends_on = timezone.localdate() + timedelta(days=10)
    asked = request_access(
        actor=charlie, number=matter.number, level=GrantLevel.VIEW, reason="Hearing prep", ends_on=ends_on
    )
    erect(dana, WallKind.EXCLUSIONARY, matter, people=[charlie])
    assert AccessRequest.objects.get(pk=asked.pk).status == RequestStatus.PENDING

    with pytest.raises(ValidationError) as refused:
        approve_access_request(actor=adam, access_request=asked)
    assert "An ethical wall screens this person or team from the matter." in str(refused.value)
    assert AccessRequest.objects.get(pk=asked.pk).status == RequestStatus.PENDING
    assert not holds(charlie, matter)


def test_a_partner_the_wall_screens_no_longer_decides_requests_on_the_matter(matter, alice, adam, bob, dana):
    from datetime import timedelta

    from django.utils import timezone

    from access.access_requests import approvers_for, capacities, pending_for, request_access

    erin = UserFactory(username="erin", roles=[Role.LAWYER])
    ends_on = timezone.localdate() + timedelta(days=10)
    erect(dana, WallKind.EXCLUSIONARY, matter, people=[alice])
    asked = request_access(actor=erin, number=matter.number, level=GrantLevel.VIEW, reason="Research", ends_on=ends_on)

    assert asked not in pending_for(alice) and capacities(alice, asked) == set()
    assert alice not in approvers_for(asked) and adam in approvers_for(asked)
    assert asked in pending_for(adam)


def test_an_administrator_the_wall_screens_neither_sees_nor_decides_its_requests(matter, alice, adam, dana):
    """The queue shows the requester's reason, which may name the client: not across a wall."""
    from datetime import timedelta

    from django.utils import timezone

    from access.access_requests import approvers_for, capacities, pending_for, request_access

    ends_on = timezone.localdate() + timedelta(days=10)
    erin = UserFactory(username="erin", roles=[Role.LAWYER])
    walled = request_access(actor=erin, number=matter.number, level=GrantLevel.VIEW, reason="Research", ends_on=ends_on)
    nowhere = request_access(actor=erin, number="2099-NONE-0001", level=GrantLevel.VIEW, reason="x", ends_on=ends_on)
    erect(dana, WallKind.EXCLUSIONARY, matter, people=[adam])

    assert list(pending_for(adam)) == [nowhere]  # a number no matter has is still the administrators'
    assert capacities(adam, walled) == set() and adam not in approvers_for(walled)
    assert walled in pending_for(alice)


def test_a_partner_the_wall_screens_no_longer_reviews_its_matters_access(matter, alice, bob, dana):
    from datetime import timedelta

    from django.utils import timezone

    from access.models import AccessReviewItem
    from access.reviews import start_campaign

    grant(bob, matter)
    other = MatterFactory(responsible_partner=alice)
    grant(bob, other)
    closes_on = timezone.localdate() + timedelta(days=14)
    first = start_campaign(actor=dana, name="Before the wall", closes_on=closes_on)
    assert set(first.items.filter(user=bob).values_list("reviewer_id", flat=True)) == {alice.pk}

    erect(dana, WallKind.EXCLUSIONARY, matter, people=[alice])

    # The open review hands the walled matter's items to the security officer; the other stays Alice's.
    reviewers = dict(AccessReviewItem.objects.filter(campaign=first, user=bob).values_list("matter_id", "reviewer_id"))
    assert reviewers[matter.pk] is None and reviewers[other.pk] == alice.pk
    # And a review started behind the wall never gives them to her.
    second = start_campaign(actor=dana, name="After the wall", closes_on=closes_on + timedelta(days=1))
    assert dict(second.items.filter(user=bob).values_list("matter_id", "reviewer_id")) == {
        matter.pk: None,
        other.pk: alice.pk,
    }
