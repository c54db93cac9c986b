"""Access recertification campaigns, and access nobody uses.

A campaign snapshots every live grant into review items; each matter's responsible
partner confirms or revokes the grants on their matters by the closing day, and what
is still unconfirmed when the campaign closes is revoked. Items nobody can fairly
decide — a matter without an eligible partner, the partner's own access — go to the
security officer. The grant under review is found again by matter and holder: a grant
that has ended, or been replaced since the campaign started (a new decision by
someone), is no longer the one under review, and its item is "gone".

Stale access: a person's grant older than N days that they have not used (no view
or download of the matter recorded in the audit trail) in the last N days. The
security officer removes such grants, or the daily job does when
``STALE_ACCESS_REMOVE`` is on.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import (
    AccessReviewCampaign,
    AccessReviewItem,
    BreakGlassAccess,
    EmploymentStatus,
    MatterGroupGrant,
    MatterUserGrant,
    NotificationKind,
    ReviewDecision,
    Role,
    User,
)
from access.notifications import notify_many
from access.services import revoke_matter_access
from access.walls import Screen, screen_of
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from audit.models import AuditEvent

# The reason an emergency (break-glass) grant carries (access.break_glass writes it): such
# grants last hours and are reviewed on their own, so no campaign asks about them.
EMERGENCY_REASON = "Emergency access"

# Reasons recorded on the grant.revoke events (codes in English, never client data).
REVOKED_IN_REVIEW = "revoked in an access review"
NOT_CONFIRMED = "not confirmed in an access review"

# What counts as using a grant: opening the matter, reading or downloading a document.
USE_ACTIONS = (AuditAction.MATTER_VIEW, AuditAction.DOCUMENT_VIEW, AuditAction.DOCUMENT_DOWNLOAD)

BATCH = 1000


# What a reviewer answers for a grant.
CONFIRM, REVOKE = "confirm", "revoke"


# --- who may do what ---------------------------------------------------------------------------


def is_eligible(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active and not user.is_departed


def is_security_officer(user: User | None) -> bool:
    return is_eligible(user) and user.has_role(Role.SECURITY_OFFICER)


def is_partner(user: User | None) -> bool:
    return is_eligible(user) and user.has_role(Role.PARTNER)


def may_decide(user: User | None, item: AccessReviewItem) -> bool:
    """The item's reviewer decides it; the security officer decides the items without one."""
    if not is_eligible(user):
        return False
    if item.reviewer_id is not None:
        return item.reviewer_id == user.pk
    return user.has_role(Role.SECURITY_OFFICER)


def _require_security_officer(actor: User | None) -> None:
    """``actor`` None is the system (the scheduled job)."""
    if actor is not None and not is_security_officer(actor):
        raise PermissionDenied


def open_campaigns() -> QuerySet[AccessReviewCampaign]:
    return AccessReviewCampaign.objects.filter(closed_at__isnull=True)


def pending_items_for(user: User) -> QuerySet[AccessReviewItem]:
    """What ``user`` has to decide in the open campaigns, as a reviewer (their partner's items)."""
    if not is_eligible(user):
        return AccessReviewItem.objects.none()
    return AccessReviewItem.objects.filter(
        reviewer=user, decision=ReviewDecision.PENDING, campaign__closed_at__isnull=True
    )


def unassigned_items() -> QuerySet[AccessReviewItem]:
    """The open campaigns' pending items without a reviewer: the security officer's to decide."""
    return AccessReviewItem.objects.filter(
        reviewer__isnull=True, decision=ReviewDecision.PENDING, campaign__closed_at__isnull=True
    )


# --- starting ------------------------------------------------------------------------------------


def _eligible_people() -> QuerySet[User]:
    """People who may still decide anything: active, and not departed (nor past their departure date)."""
    departed = Q(employment_status=EmploymentStatus.DEPARTED) | Q(
        employment_status=EmploymentStatus.DEPARTING, departure_date__lte=timezone.localdate()
    )
    return User.objects.filter(is_active=True).exclude(departed)


def _default_name(today: date) -> str:
    return _("Access review %(year)d Q%(quarter)d") % {"year": today.year, "quarter": (today.month - 1) // 3 + 1}


def _live_user_grants(now: datetime) -> QuerySet:
    """Live grants to people, without emergency ones (by their reason, or a live break-glass row)."""
    emergency = BreakGlassAccess.objects.filter(
        user_id=OuterRef("user_id"), matter_id=OuterRef("content_object_id"), expires_at__gt=now
    )
    return MatterUserGrant.objects.live(now).exclude(reason=EMERGENCY_REASON).exclude(Exists(emergency))


def _snapshot(campaign: AccessReviewCampaign, now: datetime) -> Counter:
    """The campaign's items, written in batches; returns the count per reviewer id (None: unassigned).

    Read as plain values: the matter's encrypted columns are never loaded.
    """
    partner = "content_object__responsible_partner_id"
    eligible = set(_eligible_people().filter(responsible_matters__isnull=False).values_list("pk", flat=True))
    in_group = User.groups.through.objects.filter(group_id=OuterRef("group_id"), user_id=OuterRef(partner))
    sources = (
        (
            _live_user_grants(now).values(
                "content_object_id", "content_object__client_id", "user_id", "permission__codename", partner
            ),
            "user_id",
        ),
        (
            MatterGroupGrant.objects.live(now)
            .annotate(partner_in_group=Exists(in_group))
            .values(
                "content_object_id",
                "content_object__client_id",
                "group_id",
                "permission__codename",
                partner,
                "partner_in_group",
            ),
            "group_id",
        ),
    )
    per_reviewer: Counter = Counter()
    batch: list[AccessReviewItem] = []
    screens: dict[int, Screen] = {}
    for rows, holder in sources:
        for row in rows.order_by("pk").iterator(chunk_size=BATCH):
            reviewer = row[partner] if row[partner] in eligible else None
            # A partner does not recertify their own access, nor a team's they belong to.
            if reviewer is not None and (row.get("user_id") == reviewer or row.get("partner_in_group")):
                reviewer = None
            # Nor access to a matter an ethical wall screens them from: the security officer does.
            if reviewer is not None:
                if reviewer not in screens:
                    screens[reviewer] = screen_of(User(pk=reviewer))
                if screens[reviewer].covers_ids(row["content_object_id"], row["content_object__client_id"]):
                    reviewer = None
            batch.append(
                AccessReviewItem(
                    campaign=campaign,
                    matter_id=row["content_object_id"],
                    level=row["permission__codename"],
                    reviewer_id=reviewer,
                    **{holder: row[holder]},
                )
            )
            per_reviewer[reviewer] += 1
            if len(batch) >= BATCH:
                AccessReviewItem.objects.bulk_create(batch)
                batch = []
    AccessReviewItem.objects.bulk_create(batch)
    return per_reviewer


@transaction.atomic
def start_campaign(
    *, actor: User | None = None, name: str | None = None, closes_on: date | None = None
) -> AccessReviewCampaign:
    """Start a recertification of every live grant; each reviewer is told once what they have to decide.

    ``actor``: the security officer (None: the scheduled job).
    """
    _require_security_officer(actor)
    now = timezone.now()
    today = timezone.localdate(now)
    closes_on = closes_on or today + timedelta(days=settings.ACCESS_REVIEW_DAYS)
    if closes_on <= today:
        raise ValidationError({"closes_on": _("The closing day must be after today.")})
    name = (name or "").strip() or _default_name(today)
    campaign = AccessReviewCampaign(name=name, started_by=actor, started_at=now, closes_on=closes_on)
    campaign.full_clean()
    campaign.save()
    per_reviewer = _snapshot(campaign, now)
    unassigned = per_reviewer.pop(None, 0)
    record_event(
        AuditAction.REVIEW_START,
        actor=actor,
        detail={
            "campaign_id": campaign.pk,
            "closes_on": closes_on.isoformat(),
            "items": sum(per_reviewer.values()) + unassigned,
            "reviewers": len(per_reviewer),
            "unassigned": unassigned,
        },
    )
    _announce(campaign, per_reviewer, unassigned, actor)
    return campaign


def _announce(campaign: AccessReviewCampaign, per_reviewer: Counter, unassigned: int, actor: User | None) -> None:
    """One notification per person: a partner's items, plus the unassigned ones for the security officers."""
    counts = Counter(per_reviewer)
    if unassigned:
        officers = _eligible_people().filter(groups__name=Role.SECURITY_OFFICER.value).distinct()
        for officer in officers.exclude(pk=getattr(actor, "pk", None)).values_list("pk", flat=True):
            counts[officer] += unassigned
    people = _eligible_people().in_bulk(list(counts))
    params = {"name": campaign.name, "closes": campaign.closes_on.isoformat()}
    url = reverse("access:reviews")
    notify_many(
        [
            (people[pk], NotificationKind.REVIEW_ASSIGNED, {**params, "count": count}, url)
            for pk, count in sorted(counts.items())
            if pk in people
        ]
    )


def start_scheduled_campaign() -> dict[str, int]:
    """The job ``access.quarterly_review``: a campaign each quarter, unless one is still open."""
    if open_campaigns().exists():
        return {"started": 0, "items": 0}
    campaign = start_campaign()
    return {"started": 1, "items": campaign.items.count()}


# --- deciding ----------------------------------------------------------------------------------


def grant_under_review(item: AccessReviewItem) -> MatterUserGrant | MatterGroupGrant | None:
    """The live grant the item is about, or None: it has ended, or was replaced after the campaign started."""
    model, holder = (MatterUserGrant, "user") if item.user_id else (MatterGroupGrant, "group")
    return (
        model.objects.live()
        .filter(content_object_id=item.matter_id, created_at__lte=item.campaign.started_at)
        .filter(**{f"{holder}_id": getattr(item, f"{holder}_id")})
        .select_related(holder, "permission", "content_object__client")
        .first()
    )


def _holders(grant: MatterUserGrant | MatterGroupGrant) -> list[User]:
    return [grant.user] if isinstance(grant, MatterUserGrant) else list(grant.group.user_set.all())


def _revocation_notes(grant, actor: User | None) -> list[tuple]:
    number = grant.content_object.number
    return [
        (person, NotificationKind.GRANT_REVOKED, {"number": number}, "")
        for person in _holders(grant)
        if actor is None or person.pk != actor.pk
    ]


@transaction.atomic
def decide(*, actor: User, item: AccessReviewItem, decision: str) -> AccessReviewItem:
    """Confirm or revoke one grant under review; a revocation takes effect at once."""
    if decision not in (CONFIRM, REVOKE):
        raise ValidationError({"decision": _("Choose confirm or revoke.")})
    item = AccessReviewItem.objects.select_for_update().select_related("campaign", "matter__client").get(pk=item.pk)
    if not may_decide(actor, item):
        raise PermissionDenied
    if item.campaign.closed_at is not None:
        raise ValidationError(_("This access review is closed."))
    if item.decision != ReviewDecision.PENDING:
        raise ValidationError(_("This grant has already been decided."))
    grant = grant_under_review(item)
    if grant is None:
        item.decision = ReviewDecision.GONE
    elif decision == CONFIRM:
        item.decision = ReviewDecision.CONFIRMED
    else:
        notes = _revocation_notes(grant, actor)
        revoke_matter_access(actor=actor, grant=grant, reason=REVOKED_IN_REVIEW)
        notify_many(notes)
        item.decision = ReviewDecision.REVOKED
    item.decided_by, item.decided_at = actor, timezone.now()
    item.save(update_fields=["decision", "decided_by", "decided_at"])
    record_event(
        AuditAction.REVIEW_DECIDE,
        target=item.matter,
        actor=actor,
        detail={"campaign_id": item.campaign_id, "item_id": item.pk, "decision": item.decision, **_holder_facts(item)},
    )
    return item


def _holder_facts(item: AccessReviewItem) -> dict:
    holder = {"user_id": item.user_id} if item.user_id else {"group_id": item.group_id}
    return {**holder, "level": item.level}


# --- closing -----------------------------------------------------------------------------------


@transaction.atomic
def close_campaign(*, actor: User | None = None, campaign: AccessReviewCampaign) -> dict[str, int]:
    """Close the campaign: every grant still unconfirmed is revoked. A closed campaign stays as it is."""
    _require_security_officer(actor)
    campaign = AccessReviewCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.closed_at is not None:
        return {"closed": 0, "unanswered": 0, "gone": 0}
    now = timezone.now()
    unanswered, gone, notes = [], [], []
    pending = campaign.items.filter(decision=ReviewDecision.PENDING).select_related("campaign")
    for item in pending.order_by("pk").iterator(chunk_size=BATCH):
        grant = grant_under_review(item)
        if grant is None:
            gone.append(item.pk)
            continue
        notes += _revocation_notes(grant, actor)
        revoke_matter_access(actor=actor, grant=grant, reason=NOT_CONFIRMED)
        unanswered.append(item.pk)
    # Items are not tracked by change history: the review.close event (and each grant.revoke) is the record.
    for ids, decision in ((unanswered, ReviewDecision.UNANSWERED), (gone, ReviewDecision.GONE)):
        for start in range(0, len(ids), BATCH):
            AccessReviewItem.objects.filter(pk__in=ids[start : start + BATCH]).update(
                decision=decision, decided_by=actor, decided_at=now
            )
    campaign.closed_at = now
    campaign.save(update_fields=["closed_at"])
    notify_many(notes)
    counts = dict(Counter(campaign.items.values_list("decision", flat=True)))
    record_event(
        AuditAction.REVIEW_CLOSE,
        actor=actor,
        detail={"campaign_id": campaign.pk, "items": sum(counts.values()), **counts},
    )
    return {"closed": 1, "unanswered": len(unanswered), "gone": len(gone)}


def close_due_campaigns(today: date | None = None) -> dict[str, int]:
    """Close the campaigns whose closing day has passed (each in its own transaction)."""
    today = today or timezone.localdate()
    totals: Counter = Counter()
    for campaign in open_campaigns().filter(closes_on__lt=today).order_by("started_at"):
        totals.update(close_campaign(campaign=campaign))
    return {"closed": totals["closed"], "unanswered": totals["unanswered"], "gone": totals["gone"]}


# --- stale access ------------------------------------------------------------------------------


def stale_grants(days: int | None = None) -> QuerySet[MatterUserGrant]:
    """Live grants to people, older than ``days``, that their holder has not used in the last ``days``.

    One query: each grant is matched with its holder's views and downloads of the matter
    (``EXISTS`` for the window; the last use at any time, for the page). A responsible
    partner's access to their own matter is never proposed: it is how they run it.
    Annotated with ``last_used`` (None: never).
    """
    days = settings.STALE_ACCESS_DAYS if days is None else days
    now = timezone.now()
    cutoff = now - timedelta(days=days)
    uses = AuditEvent.objects.filter(
        actor_id=OuterRef("user_id"),
        matter_id=OuterRef("content_object_id"),
        action__in=USE_ACTIONS,
        outcome=Outcome.SUCCESS,
    )
    return (
        _live_user_grants(now)
        .filter(created_at__lte=cutoff)
        .exclude(content_object__responsible_partner_id=F("user_id"))
        .exclude(Exists(uses.filter(occurred_at__gte=cutoff)))
        .annotate(last_used=Subquery(uses.order_by("-occurred_at").values("occurred_at")[:1]))
    )


def stale_reason(days: int) -> str:
    """Recorded on the grant.revoke event (English, like every recorded reason)."""
    return f"Not used in {days} days"


def revoke_stale_grants(
    *, actor: User | None = None, grant_ids: list[int] | None = None, days: int | None = None
) -> int:
    """Revoke stale grants — those of ``grant_ids`` that are still stale, or all of them — and tell
    their holders. ``actor``: the security officer (None: the housekeeping job). Returns how many."""
    _require_security_officer(actor)
    days = settings.STALE_ACCESS_DAYS if days is None else days
    stale = stale_grants(days).select_related("user", "permission", "content_object__client").order_by("pk")
    if grant_ids is not None:
        stale = stale.filter(pk__in=grant_ids)
    revoked = 0
    while True:
        # A batch per transaction; each revocation is its own audit event.
        with transaction.atomic():
            batch = list(stale.select_for_update(of=("self",))[:BATCH])
            notes = [note for grant in batch for note in _revocation_notes(grant, actor)]
            for grant in batch:
                revoke_matter_access(actor=actor, grant=grant, reason=stale_reason(days))
            notify_many(notes)
        revoked += len(batch)
        if len(batch) < BATCH:
            return revoked


def run_housekeeping() -> dict[str, int]:
    """The daily job ``access.review_housekeeping``: close the campaigns that are due and, when
    ``STALE_ACCESS_REMOVE`` is on, remove access nobody used. Idempotent."""
    counts = close_due_campaigns()
    stale = stale_grants().count()
    removed = revoke_stale_grants() if settings.STALE_ACCESS_REMOVE else 0
    return {**counts, "stale": stale, "stale_revoked": removed}
