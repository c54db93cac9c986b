"""The client keys screens: legal hold, crypto-shredding and key rotation, by client code.

For the security officer and administrators only (404 for everyone else,
superusers included, recorded as a denial). Clients are shown by code and
kind, never by name: the people who manage keys must not read what the keys
protect. The one exception is the legal hold reason, which the security
officer wrote and alone may change: it is shown to the security officer and
to no one else (administrators see that there is a hold, who set it and when).
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.actions import AuditAction, Outcome
from audit.events import record_event
from matters import keys
from matters.key_forms import ConfirmCodeForm, KeyClientFilterForm, LegalHoldForm
from matters.models import Client, ClientShredding, ShreddingStatus
from vault import services as vault_services
from vault.models import DataKey, KeyRotation

PAGE_SIZE = 50

_NOT_A_KEY_ADMIN = gettext_lazy("Only the security officer and administrators manage client keys.")


def key_admin_required(view):
    """404 for anyone but the security officer and administrators, with a verified second factor."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        is_verified = getattr(user, "is_verified", None)
        if not keys.may_manage_keys(user) or (is_verified is not None and not is_verified()):
            record_event(
                AuditAction.CLIENT_KEYS_VIEW,
                outcome=Outcome.DENIED,
                reason=_NOT_A_KEY_ADMIN,
                detail={"path": request.path},
            )
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@key_admin_required
def client_keys(request: HttpRequest) -> HttpResponse:
    form = KeyClientFilterForm(request.GET or None)
    # Only what the list shows: the encrypted columns are never loaded.
    clients = Client.objects.only("id", "code", "kind", "retention_until", "legal_hold", "shredded_at")
    if form.is_valid() and form.cleaned_data["code"]:
        clients = clients.filter(code__icontains=form.cleaned_data["code"].strip())
    page = Paginator(clients.order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    states = keys.key_states(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "rows": [{"client": client, **states[client.pk]} for client in page.object_list],
        "kek": _kek_box(),
    }
    return render(request, "matters/keys/list.html", context)


def _kek_box() -> dict:
    status = vault_services.kek_status()
    return {**status, "per_version": sorted(status["per_version"].items())}


@key_admin_required
def client_key_detail(request: HttpRequest, pk) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    record_event(AuditAction.CLIENT_KEYS_VIEW, target=client)
    return _detail_page(request, client)


def _detail_page(request: HttpRequest, client: Client, *, status: int = 200, **bound_forms) -> HttpResponse:
    shreddings = list(client.shreddings.select_related("requested_by", "approved_by", "cancelled_by"))
    pending = next((s for s in shreddings if s.status == ShreddingStatus.PENDING), None)
    officer = keys.is_security_officer(request.user)
    context = {
        "client": client,
        "is_officer": officer,
        "show_reason": officer,
        "retention_ended": keys.retention_ended(client),
        "data_keys": DataKey.objects.filter(owner=client.pk).order_by("-created_at"),
        "rotations": KeyRotation.objects.filter(owner=client.pk).select_related("started_by")[:10],
        "shreddings": shreddings,
        "pending": pending,
        "may_approve": pending is not None and pending.requested_by_id != request.user.pk,
        "hold_form": bound_forms.get("hold_form") or LegalHoldForm(prefix="hold"),
        "lift_form": bound_forms.get("lift_form") or LegalHoldForm(prefix="lift"),
        "request_form": bound_forms.get("request_form") or ConfirmCodeForm(prefix="shred", client=client),
        "approve_form": bound_forms.get("approve_form") or ConfirmCodeForm(prefix="approve", client=client),
        "refusal": bound_forms.get("refusal"),
    }
    return render(request, "matters/keys/detail.html", context, status=status)


def _act(request: HttpRequest, client: Client, form_name: str, form, perform, done: str) -> HttpResponse:
    """Validate ``form``, call the service, and either go back to the page or show it again with what stopped it."""
    if form is None or form.is_valid():
        try:
            perform(form.cleaned_data if form is not None else {})
        except keys.KeyActionRefused as refusal:
            if form is None:
                return _detail_page(request, client, status=400, refusal=refusal.message)
            form.add_error(None, refusal.message)
        else:
            messages.success(request, done)
            return redirect("matters:client_key_detail", pk=client.pk)
    return _detail_page(request, client, status=400, **{form_name: form})


@key_admin_required
@require_POST
def legal_hold_set(request: HttpRequest, pk) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    form = LegalHoldForm(request.POST, prefix="hold")
    return _act(
        request,
        client,
        "hold_form",
        form,
        lambda data: keys.set_legal_hold(actor=request.user, client=client, reason=data["reason"]),
        _("The client is now under legal hold."),
    )


@key_admin_required
@require_POST
def legal_hold_lift(request: HttpRequest, pk) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    form = LegalHoldForm(request.POST, prefix="lift")
    return _act(
        request,
        client,
        "lift_form",
        form,
        lambda data: keys.lift_legal_hold(actor=request.user, client=client, reason=data["reason"]),
        _("The legal hold was lifted."),
    )


@key_admin_required
@require_POST
def shred_request(request: HttpRequest, pk) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    form = ConfirmCodeForm(request.POST, prefix="shred", client=client)
    return _act(
        request,
        client,
        "request_form",
        form,
        lambda data: keys.request_shredding(actor=request.user, client=client),
        _("The destruction was requested. A second person must approve it."),
    )


@key_admin_required
@require_POST
def shred_approve(request: HttpRequest, pk: int) -> HttpResponse:
    shredding = get_object_or_404(ClientShredding.objects.select_related("client"), pk=pk)
    form = ConfirmCodeForm(request.POST, prefix="approve", client=shredding.client)
    return _act(
        request,
        shredding.client,
        "approve_form",
        form,
        lambda data: keys.approve_shredding(actor=request.user, shredding=shredding),
        _("The client's keys were destroyed. Its data can no longer be read."),
    )


@key_admin_required
@require_POST
def shred_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    shredding = get_object_or_404(ClientShredding.objects.select_related("client"), pk=pk)
    return _act(
        request,
        shredding.client,
        "refusal",
        None,
        lambda data: keys.cancel_shredding(actor=request.user, shredding=shredding),
        _("The request to destroy the client's keys was cancelled."),
    )


@key_admin_required
@require_POST
def key_rotate(request: HttpRequest, pk) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    return _act(
        request,
        client,
        "refusal",
        None,
        lambda data: keys.start_client_key_rotation(actor=request.user, client=client),
        _("The key rotation has started. Its progress is shown below."),
    )
