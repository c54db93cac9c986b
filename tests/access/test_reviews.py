"""Recertification campaigns: the snapshot, the partners' decisions, and closing.

Alice is the responsible partner of ``matter``; Bob holds view access to it. A
campaign puts every live grant to the matter's partner; what nobody confirms by
the close is revoked — exactly that, nothing else. Dana, the security officer,
starts and closes campaigns and decides what no partner can.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from access.models import (
    AccessReviewCampaign,
    AccessReviewItem,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    ReviewDecision,
    Role,
)
from access.policy import Action, can
from access.reviews import (
    CONFIRM,
    EMERGENCY_REASON,
    NOT_CONFIRMED,
    REVOKE,
    close_campaign,
    decide,
    start_campaign,
)
from access.services import grant_matter_access, revoke_matter_access
from audit.actions import AuditAction
from audit.models import AuditEvent
from jobs.models import JobOutcome, JobRun
from jobs.services import run_job
from tests.access.test_sign_in import T0
from tests.factories import MatterFactory, UserFactory, grant

TODAY = date(2026, 3, 2)  # T0 in Asia/Shanghai


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(charlie):
    team = Group.objects.create(name="Litigation team A")
    team.user_set.add(charlie)
    return team


def _item(campaign, *, matter, user=None, group=None) -> AccessReviewItem:
    holder = {"user": user} if user is not None else {"group": group}
    return campaign.items.get(matter=matter, **holder)


def _events(action) -> list[dict]:
    return [event.record for event in AuditEvent.objects.filter(action=action).order_by("id")]


# --- the snapshot --------------------------------------------------------------------------------


def test_a_campaign_puts_every_live_grant_to_the_matters_partner(alice, bob, charlie, dana, matter, team):
    grant(team, matter, GrantLevel.VIEW)
    orphan = MatterFactory(responsible_partner=None)
    grant(charlie, orphan, GrantLevel.EDIT)
    # Not under review: an emergency grant, and one that has ended.
    emergency = MatterFactory(responsible_partner=alice)
    grant_matter_access(
        actor=None,
        matter=emergency,
        level=GrantLevel.VIEW,
        reason=EMERGENCY_REASON,
        user=charlie,
        expires_at=timezone.now() + timedelta(hours=4),
    )
    ended = MatterFactory(responsible_partner=alice)
    grant(charlie, ended, expires_at=timezone.now() + timedelta(hours=1))

    with time_machine.travel(T0 + timedelta(hours=2), tick=False):  # the emergency grant still runs
        campaign = start_campaign(actor=dana, name="Q1 review", closes_on=TODAY + timedelta(days=16))

    rows = {
        (item.matter_id, item.user_id, item.group_id): (item.level, item.reviewer_id, item.decision)
        for item in campaign.items.all()
    }
    assert rows == {
        (matter.pk, bob.pk, None): (GrantLevel.VIEW, alice.pk, ReviewDecision.PENDING),
        (matter.pk, None, team.pk): (GrantLevel.VIEW, alice.pk, ReviewDecision.PENDING),
        # A partner does not recertify their own access: the security officer decides it.
        (matter.pk, alice.pk, None): (GrantLevel.MANAGE, None, ReviewDecision.PENDING),
        # No partner to ask: the security officer decides.
        (orphan.pk, charlie.pk, None): (GrantLevel.EDIT, None, ReviewDecision.PENDING),
    }
    assert campaign.started_by == dana
    [started] = _events(AuditAction.REVIEW_START)
    assert started["actor"] == "dana"
    assert started["detail"] == {
        "campaign_id": campaign.pk,
        "closes_on": "2026-03-18",
        "items": 4,
        "reviewers": 1,
        "unassigned": 2,
    }


def test_each_reviewer_is_told_once_what_they_have_to_decide(alice, bob, dana, matter, team):
    grant(team, matter, GrantLevel.VIEW)
    partner2 = UserFactory(roles=[Role.PARTNER])
    other = MatterFactory(responsible_partner=partner2)
    grant(bob, other)

    campaign = start_campaign()  # the scheduled one: no actor

    notes = {
        note.recipient_id: note.params for note in Notification.objects.filter(kind=NotificationKind.REVIEW_ASSIGNED)
    }
    closes = (TODAY + timedelta(days=14)).isoformat()
    assert notes == {
        alice.pk: {"name": campaign.name, "count": 2, "closes": closes},
        partner2.pk: {"name": campaign.name, "count": 1, "closes": closes},
        # Alice's own grant waits for the security officer.
        dana.pk: {"name": campaign.name, "count": 1, "closes": closes},
    }
    assert campaign.name == "Access review 2026 Q1"
    assert campaign.started_by is None


def test_a_partner_in_a_team_does_not_recertify_the_teams_access(alice, dana, matter, team):
    team.user_set.add(alice)
    grant(team, matter, GrantLevel.VIEW)
    campaign = start_campaign(actor=dana)
    assert _item(campaign, matter=matter, group=team).reviewer is None


def test_a_departed_partners_matters_go_to_the_security_officer(alice, bob, dana, matter):
    alice.is_active = False
    alice.save()
    campaign = start_campaign(actor=dana)
    assert _item(campaign, matter=matter, user=bob).reviewer is None


def test_only_the_security_officer_starts_a_campaign(alice, adam, bob, dana, matter):
    for person in (alice, adam, bob):
        with pytest.raises(PermissionDenied):
            start_campaign(actor=person)
    with pytest.raises(ValidationError) as refused:
        start_campaign(actor=dana, closes_on=TODAY)
    assert "closes_on" in refused.value.message_dict
    assert not AccessReviewCampaign.objects.exists()


# --- deciding ----------------------------------------------------------------------------------


def test_confirm_keeps_the_grant_and_revoke_ends_it_at_once(alice, bob, charlie, dana, matter):
    grant(charlie, matter)
    campaign = start_campaign(actor=dana)

    kept = decide(actor=alice, item=_item(campaign, matter=matter, user=bob), decision=CONFIRM)
    assert kept.decision == ReviewDecision.CONFIRMED
    assert (kept.decided_by, kept.decided_at) == (alice, timezone.now())
    assert can(bob, Action.VIEW, matter)

    gone = decide(actor=alice, item=_item(campaign, matter=matter, user=charlie), decision=REVOKE)
    assert gone.decision == ReviewDecision.REVOKED
    assert not MatterUserGrant.objects.filter(user=charlie, content_object=matter).exists()
    assert not can(charlie, Action.VIEW, matter)
    [revoked] = _events(AuditAction.GRANT_REVOKE)
    assert (revoked["actor"], revoked["detail"]["user_id"]) == ("alice", charlie.pk)
    decisions = [(event["actor"], event["detail"]["decision"]) for event in _events(AuditAction.REVIEW_DECIDE)]
    assert decisions == [("alice", ReviewDecision.CONFIRMED), ("alice", ReviewDecision.REVOKED)]
    assert Notification.objects.filter(recipient=charlie, kind=NotificationKind.GRANT_REVOKED).count() == 1


def test_revoking_a_teams_access_ends_it_for_every_member(alice, charlie, dana, matter, team):
    grant(team, matter)
    campaign = start_campaign(actor=dana)
    decide(actor=alice, item=_item(campaign, matter=matter, group=team), decision=REVOKE)
    assert not MatterGroupGrant.objects.filter(group=team).exists()
    assert not can(charlie, Action.VIEW, matter)


def test_a_partner_cannot_decide_another_partners_items(alice, bob, dana, matter):
    partner2 = UserFactory(roles=[Role.PARTNER])
    campaign = start_campaign(actor=dana)
    item = _item(campaign, matter=matter, user=bob)
    for person in (partner2, bob, dana):  # the security officer neither: the item has a reviewer
        with pytest.raises(PermissionDenied):
            decide(actor=person, item=item, decision=REVOKE)
    assert MatterUserGrant.objects.filter(user=bob, content_object=matter).exists()
    item.refresh_from_db()
    assert item.decision == ReviewDecision.PENDING


def test_the_security_officer_decides_the_items_without_a_reviewer(alice, dana, matter):
    campaign = start_campaign(actor=dana)
    own = _item(campaign, matter=matter, user=alice)
    with pytest.raises(PermissionDenied):
        decide(actor=alice, item=own, decision=CONFIRM)
    assert decide(actor=dana, item=own, decision=CONFIRM).decision == ReviewDecision.CONFIRMED


def test_an_item_is_decided_once_and_not_after_the_close(alice, bob, charlie, dana, matter):
    grant(charlie, matter)
    campaign = start_campaign(actor=dana)
    item = _item(campaign, matter=matter, user=bob)
    decide(actor=alice, item=item, decision=CONFIRM)
    with pytest.raises(ValidationError):
        decide(actor=alice, item=item, decision=REVOKE)
    close_campaign(actor=dana, campaign=campaign)
    with pytest.raises(ValidationError):
        decide(actor=alice, item=_item(campaign, matter=matter, user=charlie), decision=CONFIRM)
    with pytest.raises(ValidationError):
        decide(actor=alice, item=item, decision="maybe")


def test_a_grant_that_ended_or_was_replaced_is_gone_not_revoked(alice, bob, charlie, dana, matter, clock):
    grant(charlie, matter)
    campaign = start_campaign(actor=dana)
    revoke_matter_access(actor=None, grant=MatterUserGrant.objects.get(user=bob, content_object=matter))
    assert decide(actor=alice, item=_item(campaign, matter=matter, user=bob), decision=REVOKE).decision == (
        ReviewDecision.GONE
    )
    # Given again after the review started: a new decision, not the grant under review.
    clock.shift(timedelta(minutes=5))
    grant(charlie, matter, GrantLevel.DOWNLOAD)
    counts = close_campaign(actor=dana, campaign=campaign)
    assert counts == {"closed": 1, "unanswered": 1, "gone": 1}  # Alice's own grant was unanswered
    assert _item(campaign, matter=matter, user=charlie).decision == ReviewDecision.GONE
    assert MatterUserGrant.objects.get(user=charlie, content_object=matter).level == GrantLevel.DOWNLOAD


# --- closing -----------------------------------------------------------------------------------


def test_a_campaign_that_closes_revokes_exactly_the_unconfirmed_grants(alice, bob, charlie, dana, matter, team):
    grant(charlie, matter, GrantLevel.DOWNLOAD)
    grant(team, matter)
    other = MatterFactory(responsible_partner=alice)
    grant(bob, other)
    campaign = start_campaign(actor=dana)
    for item in (_item(campaign, matter=matter, user=bob), _item(campaign, matter=matter, group=team)):
        decide(actor=alice, item=item, decision=CONFIRM)
    decide(actor=dana, item=_item(campaign, matter=matter, user=alice), decision=CONFIRM)
    # Granted after the review started: not part of it, and left alone.
    late = UserFactory(roles=[Role.LAWYER])
    grant(late, other)

    counts = close_campaign(actor=dana, campaign=campaign)

    assert counts == {"closed": 1, "unanswered": 2, "gone": 0}
    remaining = set(MatterUserGrant.objects.values_list("user__username", "content_object__number"))
    assert remaining == {
        ("alice", matter.number),
        ("bob", matter.number),
        (late.username, other.number),
    }
    assert MatterGroupGrant.objects.filter(group=team, content_object=matter).exists()
    decisions = {(item.user_id, item.matter_id): item.decision for item in campaign.items.filter(group=None)}
    assert decisions[(charlie.pk, matter.pk)] == ReviewDecision.UNANSWERED
    assert decisions[(bob.pk, other.pk)] == ReviewDecision.UNANSWERED
    assert decisions[(bob.pk, matter.pk)] == ReviewDecision.CONFIRMED
    revoked = {(event["detail"]["user_id"], event["matter_number"]) for event in _events(AuditAction.GRANT_REVOKE)}
    assert revoked == {(charlie.pk, matter.number), (bob.pk, other.number)}
    assert {event["reason"] for event in _events(AuditAction.GRANT_REVOKE)} == {NOT_CONFIRMED}
    [closed] = _events(AuditAction.REVIEW_CLOSE)
    assert closed["detail"] == {"campaign_id": campaign.pk, "items": 5, "confirmed": 3, "unanswered": 2}
    campaign.refresh_from_db()
    assert campaign.closed_at == timezone.now()


def test_closing_twice_changes_nothing_the_second_time(alice, bob, dana, matter):
    campaign = start_campaign(actor=dana)
    close_campaign(actor=dana, campaign=campaign)
    grant(bob, matter)  # given again after the close
    assert close_campaign(actor=dana, campaign=campaign) == {"closed": 0, "unanswered": 0, "gone": 0}
    assert MatterUserGrant.objects.filter(user=bob, content_object=matter).exists()
    assert len(_events(AuditAction.REVIEW_CLOSE)) == 1


def test_only_the_security_officer_closes_a_campaign(alice, bob, dana, matter):
    campaign = start_campaign(actor=dana)
    with pytest.raises(PermissionDenied):
        close_campaign(actor=alice, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.closed_at is None


# --- the jobs ----------------------------------------------------------------------------------


def test_the_quarterly_job_starts_a_campaign_unless_one_is_open(alice, bob, dana, matter):
    run = run_job("access.quarterly_review")
    assert (run.outcome, run.counts) == (JobOutcome.SUCCEEDED, {"started": 1, "items": 2})
    assert run_job("access.quarterly_review").counts == {"started": 0, "items": 0}
    assert AccessReviewCampaign.objects.count() == 1
    assert JobRun.objects.filter(job="access.quarterly_review").count() == 2


def test_housekeeping_closes_the_campaigns_whose_day_has_passed(alice, bob, dana, matter, clock):
    campaign = start_campaign(actor=dana, closes_on=TODAY + timedelta(days=3))
    clock.move_to(T0 + timedelta(days=3))  # the closing day itself: partners still have it
    assert run_job("access.review_housekeeping").counts["closed"] == 0
    assert MatterUserGrant.objects.filter(user=bob).exists()

    clock.move_to(T0 + timedelta(days=4))
    run = run_job("access.review_housekeeping")
    assert run.counts == {"closed": 1, "unanswered": 2, "gone": 0, "stale": 0, "stale_revoked": 0}
    assert not MatterUserGrant.objects.filter(user=bob).exists()
    campaign.refresh_from_db()
    assert campaign.closed_at is not None
    [closed] = _events(AuditAction.REVIEW_CLOSE)
    assert closed["actor"] == ""  # the system
    assert run_job("access.review_housekeeping").counts["closed"] == 0


def test_both_jobs_are_registered_and_scheduled(settings):
    from celery.schedules import crontab

    from jobs.registry import PERIODIC_JOBS

    assert PERIODIC_JOBS["access.quarterly_review"] == "access.reviews.start_scheduled_campaign"
    assert PERIODIC_JOBS["access.review_housekeeping"] == "access.reviews.run_housekeeping"
    schedules = {entry["args"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedules[("access.quarterly_review",)] == crontab(
        minute=0, hour=1, day_of_month=1, month_of_year="1,4,7,10"
    )
    assert schedules[("access.review_housekeeping",)] == crontab(minute=40, hour=0)


def test_campaigns_recognise_emergency_grants_by_the_reason_break_glass_gives_them():
    break_glass = pytest.importorskip("access.break_glass")
    assert break_glass.EMERGENCY_REASON == EMERGENCY_REASON
