"""A person's compliance status, and the gate that CONFIDENTIAL matters apply.

Read from the person's *current* assignments alone: the earliest ``good_through``
decides. Before it passes the person is compliant (or *due soon* within
``TRAINING_DUE_SOON_DAYS``); from the day after, lapsed. Exact, like every
expiry here: the status changes at midnight whatever the daily job has done,
and a completion restores it at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.events import current_request
from matters.models import Classification
from training.models import Assignment


class Status:
    COMPLIANT = "compliant"
    DUE_SOON = "due_soon"
    LAPSED = "lapsed"

    LABELS = {COMPLIANT: _("Compliant"), DUE_SOON: _("Due soon"), LAPSED: _("Lapsed")}


# The lowest classification the gate applies to (DESIGN.md, Authorization).
GATED_FROM = Classification.CONFIDENTIAL


def status_for(earliest: date | None, today: date | None = None) -> str:
    today = today or timezone.localdate()
    if earliest is None:
        return Status.COMPLIANT
    if earliest < today:
        return Status.LAPSED
    if earliest <= today + timedelta(days=settings.TRAINING_DUE_SOON_DAYS):
        return Status.DUE_SOON
    return Status.COMPLIANT


def statuses(user_ids: Iterable[int] | None = None, today: date | None = None) -> dict[int, str]:
    """Everyone's status (or these people's) in one aggregate query; absent means compliant."""
    rows = Assignment.objects.current().filter(good_through__isnull=False)
    if user_ids is not None:
        # A queryset stays a subquery; anything else is a list of ids.
        rows = rows.filter(user_id__in=user_ids if isinstance(user_ids, QuerySet) else list(user_ids))
    earliest = rows.values_list("user_id").annotate(earliest=Min("good_through")).order_by()
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.TRAINING_DUE_SOON_DAYS)
    return {
        user_id: Status.LAPSED if first < today else Status.DUE_SOON if first <= soon else Status.COMPLIANT
        for user_id, first in earliest
    }


@dataclass
class Standing:
    """What a page shows about one person: their status, what they still owe, and the item that
    locks confidential matters (the earliest overdue), if any."""

    status: str
    to_do: list[Assignment] = field(default_factory=list)
    lapsed: Assignment | None = None

    @property
    def status_label(self) -> str:
        return str(Status.LABELS[self.status])

    @property
    def is_lapsed(self) -> bool:
        return self.status == Status.LAPSED

    @property
    def refusal(self) -> str:
        return refusal_reason(self.lapsed) if self.lapsed else ""


def standing_of(user, today: date | None = None) -> Standing:
    """One query: the person's open assignments and those whose pass ends within the due-soon window."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.TRAINING_DUE_SOON_DAYS)
    items = list(
        Assignment.objects.current()
        .filter(Q(completed_at__isnull=True) | Q(good_through__lte=soon), user_id=user.pk)
        .select_related("course", "version__document")
        .order_by("good_through", "pk")
    )
    dated = [item.good_through for item in items if item.good_through is not None]
    status = status_for(min(dated) if dated else None, today)
    lapsed = next((item for item in items if item.good_through and item.good_through < today), None)
    return Standing(status=status, to_do=items, lapsed=lapsed)


def first_lapsed(user, today: date | None = None) -> Assignment | None:
    """The person's earliest overdue current assignment (one indexed query), or None."""
    return (
        Assignment.objects.overdue(today)
        .filter(user_id=user.pk)
        .select_related("course", "version__document")
        .order_by("good_through", "pk")
        .first()
    )


# Where a request keeps what the gate found, so a page asking about several matters (a matter
# page asks for viewing, downloading, uploading and managing) reads the standing once.
_MEMO = "_training_gate_memo"


def _gate_item(user) -> Assignment | None:
    """:func:`first_lapsed`, asked once per person and day in the request being served; outside
    a request (jobs, shell, service tests) every call asks the database."""
    request = current_request()
    if request is None:
        return first_lapsed(user)
    memo = getattr(request, _MEMO, None)
    if memo is None:
        memo = {}
        setattr(request, _MEMO, memo)
    key = (user.pk, timezone.localdate())
    if key not in memo:
        memo[key] = first_lapsed(user)
    return memo[key]


def forget(user) -> None:
    """A completion or signature changed ``user``'s standing: the request asks again."""
    memo = getattr(current_request(), _MEMO, None)
    if memo:
        for key in [key for key in memo if key[0] == user.pk]:
            del memo[key]


def refusal_reason(item: Assignment) -> str:
    if item.course_id:
        if item.completed_at:
            return _("Your training “%(title)s” has expired. Take it again to open confidential matters.") % {
                "title": item.item_title
            }
        return _("Your training “%(title)s” is overdue. Complete it to open confidential matters.") % {
            "title": item.item_title
        }
    if item.version.document.is_agreement:
        return _("You have not signed the current “%(title)s”. Sign it to open confidential matters.") % {
            "title": item.item_title
        }
    return _("You have not acknowledged the current “%(title)s”. Acknowledge it to open confidential matters.") % {
        "title": item.item_title
    }


def remedy_label(item: Assignment) -> str:
    if item.course_id:
        return str(_("Go to the course"))
    return str(_("Sign the agreement") if item.version.document.is_agreement else _("Read and acknowledge"))


def matter_gate(user, classification: int):
    """The gate ``access.policy`` applies (setting ``ACCESS_MATTER_GATES``): None, or
    ``(reason, url, link label)`` refusing a lapsed person a CONFIDENTIAL or higher matter."""
    if classification < GATED_FROM:
        return None
    item = _gate_item(user)
    if item is None:
        return None
    return refusal_reason(item), item.item_url(), remedy_label(item)
