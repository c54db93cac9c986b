"""Access reviews: recertification campaigns and stale access (services in ``access.reviews``).

The security officer starts and closes campaigns, reads their reports, decides the
items nobody else can, and removes access nobody uses. A partner sees the grants on
their matters that wait for their answer. Everyone else gets 404. Matters are named
by number and client code only: their encrypted columns are never loaded here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access.models import AccessReviewCampaign, AccessReviewItem, ReviewDecision
from access.review_forms import CampaignForm, DecideForm, StaleRevokeForm
from access.reviews import (
    close_campaign,
    decide,
    is_partner,
    is_security_officer,
    may_decide,
    pending_items_for,
    revoke_stale_grants,
    stale_grants,
    start_campaign,
    unassigned_items,
)
from audit.actions import AuditAction, Outcome
from audit.events import record_event

PAGE_SIZE = 50
CAMPAIGNS_SHOWN = 20

# The matter's columns these pages load: never its title, description or notes, nor its client's name.
_MATTER_COLUMNS = (
    "matter__id",
    "matter__number",
    "matter__classification",
    "matter__client__id",
    "matter__client__code",
)


def _refuse(request: HttpRequest) -> None:
    """404, recorded: someone looking for who holds what is worth knowing about."""
    record_event(
        AuditAction.ACCESS_OVERVIEW,
        outcome=Outcome.DENIED,
        reason="not a reviewer or the security officer",
        detail={"path": request.path},
    )
    raise Http404


def _require_officer(request: HttpRequest) -> None:
    if not is_security_officer(request.user):
        _refuse(request)


def _page(request: HttpRequest, items: QuerySet, param: str = "page") -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _query_without(request: HttpRequest, param: str) -> str:
    query = request.GET.copy()
    query.pop(param, None)
    return query.urlencode()


def _items(items: QuerySet) -> QuerySet:
    """Items with what a row shows: matter by number and client code, holder, reviewer, who decided."""
    return items.select_related("matter__client", "user", "group", "reviewer", "decided_by", "campaign").only(
        *_MATTER_COLUMNS,
        *(field.name for field in AccessReviewItem._meta.concrete_fields),
        "user__username", "user__first_name", "user__last_name",
        "group__name",
        "reviewer__username", "reviewer__first_name", "reviewer__last_name",
        "decided_by__username", "decided_by__first_name", "decided_by__last_name",
        "campaign__name", "campaign__closes_on", "campaign__closed_at", "campaign__started_at",
    )  # fmt: skip


def _messages_from(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- the reviews page ----------------------------------------------------------------------------


def reviews(request: HttpRequest) -> HttpResponse:
    user = request.user
    officer = is_security_officer(user)
    mine = pending_items_for(user)
    if not (officer or is_partner(user) or mine.exists()):
        _refuse(request)
    form = None
    if request.method == "POST":
        if not officer:
            _refuse(request)
        form = CampaignForm(request.POST)
        started = _start(request, form)
        if started is not None:
            return redirect("access:review_detail", started.pk)
    context = {
        "officer": officer,
        "decide_form": DecideForm(),
        "mine": _page(request, _items(mine).order_by("campaign__closes_on", "matter__number", "pk")),
        "query": _query_without(request, "page"),
    }
    if officer:
        unassigned = _items(unassigned_items()).order_by("campaign__closes_on", "matter__number", "pk")
        context |= {
            "form": form or CampaignForm(),
            "campaigns": _with_counts(AccessReviewCampaign.objects.select_related("started_by"))[:CAMPAIGNS_SHOWN],
            "unassigned": _page(request, unassigned, "unassigned_page"),
            "unassigned_query": _query_without(request, "unassigned_page"),
        }
    return render(request, "access/reviews/reviews.html", context)


def _start(request: HttpRequest, form: CampaignForm) -> AccessReviewCampaign | None:
    if not form.is_valid():
        return None
    try:
        campaign = start_campaign(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
            form.add_error(field if field in form.fields else None, errors)
        return None
    count = campaign.items.count()
    messages.success(
        request,
        ngettext(
            "The access review has started with %(count)d grant; its reviewer has been told.",
            "The access review has started with %(count)d grants; each reviewer has been told.",
            count,
        )
        % {"count": count},
    )
    return campaign


def _with_counts(campaigns: QuerySet) -> QuerySet:
    """Each campaign with its number of items per decision, in the same query."""
    per_decision = {
        decision.value: Count("items", filter=Q(items__decision=decision.value)) for decision in ReviewDecision
    }
    return campaigns.annotate(total=Count("items"), **per_decision).order_by("-started_at")


# --- deciding ----------------------------------------------------------------------------------


def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Permission first (404 for anyone who may not decide the item), then method."""
    item = AccessReviewItem.objects.filter(pk=pk).first()
    if item is None or not may_decide(request.user, item):
        _refuse(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DecideForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("access:reviews")
    try:
        decided = decide(actor=request.user, item=item, decision=form.cleaned_data["decision"])
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _messages_from(request, exc)
    else:
        messages.success(request, _decided_message(decided))
    return redirect("access:reviews")


def _decided_message(item: AccessReviewItem) -> str:
    values = {"holder": item.user or item.group, "number": item.matter.number}
    if item.decision == ReviewDecision.CONFIRMED:
        return _("Access of %(holder)s to matter %(number)s confirmed.") % values
    if item.decision == ReviewDecision.REVOKED:
        return _("Access of %(holder)s to matter %(number)s revoked; it ended at once.") % values
    return _("The access of %(holder)s to matter %(number)s had already ended.") % values


# --- the campaign's report -------------------------------------------------------------------


def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_officer(request)
    campaign = get_object_or_404(_with_counts(AccessReviewCampaign.objects.select_related("started_by")), pk=pk)
    shown = request.GET.get("decision", "")
    items = _items(campaign.items.all())
    if shown in ReviewDecision.values:
        items = items.filter(decision=shown)
    else:
        shown = ""
    record_event(AuditAction.ACCESS_OVERVIEW, detail={"report": "access review", "campaign_id": campaign.pk})
    context = {
        "campaign": campaign,
        "counts": [(decision, getattr(campaign, decision.value)) for decision in ReviewDecision],
        "decisions": ReviewDecision.choices,
        "shown": shown,
        "page": _page(request, items.order_by("matter__number", "pk")),
        "query": _query_without(request, "page"),
    }
    return render(request, "access/reviews/detail.html", context)


def review_close(request: HttpRequest, pk: int) -> HttpResponse:
    _require_officer(request)
    campaign = get_object_or_404(AccessReviewCampaign, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    counts = close_campaign(actor=request.user, campaign=campaign)
    if counts["closed"]:
        messages.success(
            request,
            ngettext(
                "The access review is closed: %(count)d grant nobody confirmed was revoked.",
                "The access review is closed: %(count)d grants nobody confirmed were revoked.",
                counts["unanswered"],
            )
            % {"count": counts["unanswered"]},
        )
    else:
        messages.info(request, _("This access review was already closed."))
    return redirect("access:review_detail", campaign.pk)


# --- stale access ------------------------------------------------------------------------------


def stale_access(request: HttpRequest) -> HttpResponse:
    _require_officer(request)
    stale = (
        stale_grants()
        .select_related("user", "permission", "content_object__client")
        .only(
            "id", "user", "permission", "created_at", "expires_at", "content_object",
            "user__username", "user__first_name", "user__last_name", "permission__codename",
            "content_object__id", "content_object__number", "content_object__classification",
            "content_object__client__id", "content_object__client__code",
        )
        .order_by("last_used", "created_at", "pk")
    )  # fmt: skip
    page = _page(request, stale)
    record_event(AuditAction.ACCESS_OVERVIEW, detail={"report": "stale access", "page": page.number})
    context = {
        "page": page,
        "query": _query_without(request, "page"),
        "days": settings.STALE_ACCESS_DAYS,
        "automatic": settings.STALE_ACCESS_REMOVE,
    }
    return render(request, "access/reviews/stale.html", context)


def stale_revoke(request: HttpRequest) -> HttpResponse:
    _require_officer(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = StaleRevokeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("access:stale_access")
    chosen = [grant.pk for grant in form.cleaned_data["grants"]]
    revoked = revoke_stale_grants(actor=request.user, grant_ids=chosen)
    messages.success(
        request,
        ngettext(
            "%(count)d unused grant was removed; its holder is told.",
            "%(count)d unused grants were removed; their holders are told.",
            revoked,
        )
        % {"count": revoked},
    )
    return redirect("access:stale_access")
