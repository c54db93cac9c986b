"""Asking for access, one's own requests and grants, the approval queue, notifications.

A request names a matter by number. What the requester is shown about it —
the confirmation, the validation errors, the row in their list — is the same
whether the number belongs to a matter they may not know of or to none at all:
their list shows the number as typed, never a classification, client or title.
The queue shows matters by number and client code only; the people who decide
need the requester's reason, not the matter's contents.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from access import notifications as notes
from access.access_requests import (
    approve_access_request,
    capacities,
    deny_access_request,
    missing_capacities,
    needs_two,
    pending_for,
    request_access,
    withdraw_access_request,
)
from access.models import (
    AccessRequest,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
)
from access.policy import BROWSING_ROLES, Decision, gate_refusal, requestable_matters, screen_for, visible_matters
from access.request_forms import AccessRequestForm, ApproveForm, DenyForm
from audit.actions import AuditAction
from audit.events import record_event
from matters.models import Classification
from vault.fields import preload_keys

PAGE_SIZE = 25


# A service's error keys that the request form asks under no field of its own.
_FORM_FIELD_OF = {"requester": None}


def _page(request: HttpRequest, items: QuerySet, param: str = "page") -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _query_without(request: HttpRequest, param: str) -> str:
    query = request.GET.copy()
    query.pop(param, None)
    return query.urlencode()


def _error_messages(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_error_messages(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# --- asking ------------------------------------------------------------------------------------


def request_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AccessRequestForm(request.POST)
        if form.is_valid():
            try:
                filed = request_access(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                # The same words whatever the number was: they confirm nothing about it.
                messages.success(
                    request,
                    _("Your request for matter %(number)s has been sent. You will be notified when it is decided.")
                    % {"number": filed.matter_number},
                )
                return redirect("access:my_requests")
    else:
        form = AccessRequestForm(initial={"number": request.GET.get("number", "").strip()[:32]})
    context = {"form": form, **_open_matters(request)}
    return render(request, "access/requests/request_new.html", context)


def _add_errors(form: AccessRequestForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        field = _FORM_FIELD_OF.get(key, key)
        form.add_error(field if field in form.fields else None, errors)


def _open_matters(request: HttpRequest) -> dict:
    """The PUBLIC and INTERNAL matters a lawyer or partner may ask for without knowing the number."""
    if not BROWSING_ROLES & request.user.role_names():
        return {"browsing": False}
    matters = requestable_matters(request.user).select_related("responsible_partner").order_by("-opened_on", "number")
    page = _page(request, matters)
    preload_keys(page.object_list)  # titles are encrypted: their keys in one query
    # Titles were shown: a listing, recorded like the matter list's.
    record_event(
        AuditAction.MATTER_LIST,
        detail={"listing": "open to requests", "page": page.number, "results": page.paginator.count},
    )
    return {"browsing": True, "page": page, "query": _query_without(request, "page")}


def my_requests(request: HttpRequest) -> HttpResponse:
    user = request.user
    mine = (
        AccessRequest.objects.filter(Q(requester=user) | Q(filed_by=user))
        .select_related("requester")
        .order_by("-created_at", "pk")
    )
    return render(request, "access/requests/my_requests.html", {"page": _page(request, mine)})


def request_withdraw(request: HttpRequest, pk) -> HttpResponse:
    """Permission first (404 for anyone but the requester and the filer), then method."""
    user = request.user
    access_request = (
        AccessRequest.objects.filter(Q(requester=user) | Q(filed_by=user), pk=pk).select_related("requester").first()
    )
    if access_request is None:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        withdraw_access_request(actor=user, access_request=access_request)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request, _("Your request for matter %(number)s was withdrawn.") % {"number": access_request.matter_number}
        )
    return redirect("access:my_requests")


# --- one's own grants --------------------------------------------------------------------------


def my_access(request: HttpRequest) -> HttpResponse:
    user, now = request.user, timezone.now()
    # What an ethical wall screens the person from is not theirs to see, whatever grant stays
    # (a team's grant outlives a wall that names one member): left out, as the matter list does.
    screen = screen_for(user)
    screened = Q(content_object_id__in=screen.matter_ids) | Q(content_object__client_id__in=screen.client_ids)
    direct = (
        MatterUserGrant.objects.live(now)
        .exclude(screened)
        .filter(user=user)
        .select_related("content_object", "permission")
        .order_by("content_object__number")
    )
    via_teams = (
        MatterGroupGrant.objects.live(now)
        .exclude(screened)
        .filter(group__user=user)
        .select_related("content_object", "group", "permission")
        .order_by("content_object__number", "group__name")
    )
    page, team_page = _page(request, direct), _page(request, via_teams, "team_page")
    grants, team_grants = list(page.object_list), list(team_page.object_list)
    refusal = _gate_on(user, [*grants, *team_grants])
    soon = now + timedelta(days=settings.ACCESS_EXPIRY_WARNING_DAYS)
    for grant in [*grants, *team_grants]:
        grant.ends_soon = grant.expires_at is not None and grant.expires_at <= soon
        # As the matter list shows it: a matter the gate refuses is listed by number, its title
        # never decrypted (left out of the preload).
        grant.locked = refusal is not None and grant.content_object.classification >= Classification.CONFIDENTIAL
    preload_keys([grant for grant in [*grants, *team_grants] if not grant.locked])
    context = {
        "refusal": refusal,
        # A refusal is a falsy Decision: the template asks ``any_locked``.
        "any_locked": any(grant.locked for grant in [*grants, *team_grants]),
        "page": page,
        "grants": grants,
        "team_page": team_page,
        "team_grants": team_grants,
        "query": _query_without(request, "page"),
        "team_query": _query_without(request, "team_page"),
    }
    return render(request, "access/requests/my_access.html", context)


def _gate_on(user, grants: list) -> Decision | None:
    """Why ``user`` may not open the confidential matters among ``grants``, or None: asked once
    for the page (one query), and not at all when none of them is confidential."""
    if not any(grant.content_object.classification >= Classification.CONFIDENTIAL for grant in grants):
        return None
    return gate_refusal(user, Classification.CONFIDENTIAL)


# --- deciding ----------------------------------------------------------------------------------

# What a highly confidential request still waits for: in the queue, and in the approver's message.
_MISSING_LABELS = {
    "partner": lambda: _("responsible partner"),
    "security_officer": lambda: _("security officer"),
}
_WAITING_FOR = {
    "partner": lambda: _("the responsible partner"),
    "security_officer": lambda: _("the security officer"),
}


def _joined(items: list[str]) -> str:
    # Chinese lists take 、 rather than a comma: the separator is translated.
    return pgettext("list separator", ", ").join(items)


def _missing(access_request: AccessRequest, labels: dict = _MISSING_LABELS) -> list[str]:
    return [str(labels[name]()) for name in missing_capacities(access_request) if name in labels]


def approvals(request: HttpRequest) -> HttpResponse:
    page = _page(request, pending_for(request.user))
    rows = [
        {
            "request": item,
            "missing": _joined(_missing(item)) if needs_two(item) else "",
            "approved_by_me": any(approval.approver_id == request.user.pk for approval in item.approvals.all()),
            # Asked by number for a matter they may not know (or for none): a denial's
            # words must not answer whether it exists. (A renewal's requester holds a grant.)
            "unseen_by_requester": not item.renewal
            and (item.matter is None or item.matter.classification >= Classification.CONFIDENTIAL),
        }
        for item in page.object_list
    ]
    context = {"page": page, "rows": rows, "approve_form": ApproveForm(), "deny_form": DenyForm()}
    return render(request, "access/requests/approvals.html", context)


def _decidable(request: HttpRequest, pk) -> AccessRequest:
    """The request, if the user may decide it; 404 otherwise — for its requester too."""
    access_request = (
        AccessRequest.objects.select_related("requester", "matter__client", "matter__responsible_partner")
        .filter(pk=pk)
        .first()
    )
    if access_request is None or not capacities(request.user, access_request):
        raise Http404
    return access_request


def request_approve(request: HttpRequest, pk) -> HttpResponse:
    access_request = _decidable(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ApproveForm(request.POST)
    if not form.is_valid():
        _form_error_messages(request, form)
        return redirect("access:approvals")
    try:
        decided = approve_access_request(
            actor=request.user, access_request=access_request, note=form.cleaned_data["note"]
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _approved_message(decided))
    return redirect("access:approvals")


def _approved_message(decided: AccessRequest) -> str:
    if decided.status == RequestStatus.APPROVED:
        return _("Access granted to %(person)s on matter %(number)s until %(date)s.") % {
            "person": decided.requester,
            "number": decided.matter_number,
            "date": decided.ends_on.isoformat(),
        }
    return _("Your approval is recorded; the request now waits for %(missing)s.") % {
        "missing": _joined(_missing(decided, _WAITING_FOR))
    }


def request_deny(request: HttpRequest, pk) -> HttpResponse:
    access_request = _decidable(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DenyForm(request.POST)
    if not form.is_valid():
        _form_error_messages(request, form)
        return redirect("access:approvals")
    try:
        deny_access_request(actor=request.user, access_request=access_request, reason=form.cleaned_data["reason"])
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Request denied; %(person)s is told why.") % {"person": access_request.requester})
    return redirect("access:approvals")


# --- notifications -----------------------------------------------------------------------------

# Kinds whose free-text reason is shown in the app (e-mail never carries it).
_WITH_REASON = {NotificationKind.REQUEST_DENIED, NotificationKind.GRANT_REVOKED}


def notifications(request: HttpRequest) -> HttpResponse:
    page = _page(request, Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id"))
    shown = list(page.object_list)
    entries = [_entry(note, request.user) for note in shown]
    response = render(request, "access/notifications.html", {"page": page, "entries": entries})
    # Shown as unread this once, then read.
    _mark_read(Notification.objects.filter(pk__in=[note.pk for note in shown if note.read_at is None]))
    return response


def notifications_read(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _mark_read(Notification.objects.filter(recipient=request.user, read_at__isnull=True))
    return redirect("access:notifications")


def _mark_read(unread: QuerySet[Notification]) -> None:
    # Reading a notification is no business event (the model is not audited): a plain UPDATE.
    unread.update(read_at=timezone.now())


def _revoked_grants_for(reader, revoked: list[dict]) -> tuple[list[dict], int]:
    """The revoked grants a departure notice may name to ``reader``, and how many it may only count.

    A CONFIDENTIAL or higher matter is named only to someone who may see it: the number of
    a matter is not confirmed to people without access, HR and managers included.
    """

    def guarded(item: dict) -> bool:
        return item.get("classification", Classification.CONFIDENTIAL) >= Classification.CONFIDENTIAL

    numbers = [item.get("number") for item in revoked if guarded(item)]
    seen = set(visible_matters(reader).filter(number__in=numbers).values_list("number", flat=True) if numbers else [])
    shown = [item for item in revoked if not guarded(item) or item.get("number") in seen]
    return shown, len(revoked) - len(shown)


def _entry(note: Notification, reader) -> dict:
    params = note.params or {}
    entry = {
        "note": note,
        "text": notes.message(note.kind, params),
        "url": note.url if note.url.startswith("/") else "",
        "reason": params.get("reason", "") if note.kind in _WITH_REASON else "",
    }
    if note.kind == NotificationKind.DEPARTURE:
        shown, hidden = _revoked_grants_for(reader, params.get("grants", []))
        entry["grants"] = [(item.get("number", ""), notes.level_label(item.get("level"))) for item in shown]
        entry["hidden_grants"] = hidden
        entry["groups"] = _joined(params.get("groups", []))
        entry["sessions"] = params.get("sessions", 0)
    return entry
