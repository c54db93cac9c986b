"""The security officer's review of the audit trail: events, timelines, exports and the chain.

Every view is for the reviewer group only (``reviewer_required``: 404 for
anyone else). Pages show what events record — who, when, from where, which
matter number and client code — and never a matter's contents; the audit app
reads no other app's data beyond an id looked up by number or code.
Reviewing is itself recorded: the list and timelines as ``audit.view``, the
exports as ``audit.export`` and ``audit.checkpoint_export``, the button as
``audit.verify``.
"""

from __future__ import annotations

import hashlib
import json

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from audit import exports
from audit.actions import AuditAction, Outcome
from audit.chain import chain_head, pending_count
from audit.checkpoints import export_lines
from audit.events import record_event
from audit.forms import EventFilterForm, VerifyForm
from audit.models import AuditCheckpoint, AuditEvent, AuditVerification, VerificationStatus
from audit.permissions import reviewer_required
from audit.selectors import EventRow, events_for_review, keyset_page, link_of
from audit.tasks import verify_audit_trail_task
from audit.verification import describe

# The record's fields in the order the event page lists them.
RECORD_FIELDS = (
    ("at", gettext_lazy("Time (UTC)")),
    ("action", gettext_lazy("Action")),
    ("outcome", gettext_lazy("Outcome")),
    ("actor_id", gettext_lazy("Person id")),
    ("actor", gettext_lazy("Username")),
    ("session", gettext_lazy("Session")),
    ("ip", gettext_lazy("IP address")),
    ("ua", gettext_lazy("Browser")),
    ("client_id", gettext_lazy("Client id")),
    ("client_code", gettext_lazy("Client code")),
    ("matter_id", gettext_lazy("Matter id")),
    ("matter_number", gettext_lazy("Matter number")),
    ("document_id", gettext_lazy("Document id")),
    ("classification", gettext_lazy("Classification")),
    ("reason", gettext_lazy("Reason")),
    ("detail", gettext_lazy("Detail")),
    ("uid", gettext_lazy("Event reference")),
    ("v", gettext_lazy("Record format")),
)
RECENT_VERIFICATIONS = 10


# --- events and timelines --------------------------------------------------------------


@reviewer_required
@require_GET
def events(request: HttpRequest) -> HttpResponse:
    return _review(request, view="events")


@reviewer_required
@require_GET
def person_timeline(request: HttpRequest, user_id: int) -> HttpResponse:
    username = get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()
    if username is None:
        # An account that is gone still has its events; they name it.
        username = _newest_label(AuditEvent.objects.filter(actor_id=user_id), "actor")
    timeline = {"kind": "person", "title": username, "export": {"person_id": user_id}}
    return _review(request, view="person_timeline", fixed={"person_id": user_id}, timeline=timeline)


@reviewer_required
@require_GET
def matter_timeline(request: HttpRequest, matter_id) -> HttpResponse:
    # The number only, never the matter's contents.
    number = apps.get_model("matters", "Matter").objects.filter(pk=matter_id).values_list("number", flat=True).first()
    if number is None:
        number = _newest_label(AuditEvent.objects.filter(matter_id=matter_id), "matter_number")
    timeline = {"kind": "matter", "title": number, "export": {"matter_id": str(matter_id)}}
    return _review(request, view="matter_timeline", fixed={"matter_id": matter_id}, timeline=timeline)


def _newest_label(events, key: str) -> str:
    """A label from the newest of ``events``; 404 when there are none."""
    newest = events.order_by("-id").first()
    if newest is None:
        raise Http404
    return str(_safe_record(newest).get(key) or "—")


def _review(request: HttpRequest, *, view: str, fixed: dict | None = None, timeline: dict | None = None):
    form = EventFilterForm(request.GET, fixed=fixed)
    form.is_valid()  # the valid filters apply; an invalid one is named on the page
    event_filter = form.event_filter()
    before, after = _cursor(request, "before"), _cursor(request, "after")
    page = keyset_page(event_filter.apply(events_for_review()), before=before, after=after)
    cursor = {"before": before} if before else ({"after": after} if after else {})
    record_event(AuditAction.AUDIT_VIEW, detail={"view": view, "filters": event_filter.as_detail(), **cursor})
    query = form.query_string()
    context = {
        "form": form,
        "page": page,
        "rows": [_row(event) for event in page.events],
        "query": query,
        "timeline": timeline,
        "export_query": form.query_string(**(timeline or {}).get("export", {})),
        "export_limit": f"{exports.EXPORT_LIMIT:,}",
    }
    return render(request, "audit/events.html", context)


def _cursor(request: HttpRequest, name: str) -> int | None:
    """A paging cursor (an event id); one that is not a number is ignored."""
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _safe_record(event: AuditEvent) -> dict:
    """The event's record; {} if its bytes no longer decode (verification names such a record)."""
    try:
        record = event.record
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _row(event: EventRow) -> dict:
    record = event.record
    return {
        "event": event,
        "record": record,
        "readable": bool(record),
        "document_short": str(event.document_id)[:8] if event.document_id else "",
    }


@reviewer_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(events_for_review(), pk=pk)
    record = _safe_record(event)
    payload = bytes(event.payload)
    record_event(AuditAction.AUDIT_VIEW, detail={"view": "event_detail", "event": event.pk})
    context = {
        "event": event,
        "readable": bool(record),
        "fields": _record_fields(record),
        "raw": payload.decode("utf-8", errors="replace"),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "link": link_of(event),
    }
    return render(request, "audit/event_detail.html", context)


def _record_fields(record: dict) -> list[dict]:
    labels = dict(RECORD_FIELDS)
    keys = [key for key, _label in RECORD_FIELDS if key in record] + sorted(set(record) - set(labels))
    return [{"key": key, "label": labels.get(key, key), "value": _shown(key, record[key])} for key in keys]


def _shown(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key == "action" and value in AuditAction.values:
        return f"{AuditAction(value).label} ({value})"
    if key == "outcome" and value in Outcome.values:
        return f"{Outcome(value).label} ({value})"
    if key == "classification":
        return f"{_classification_labels().get(value, value)} ({value})"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) if value else "—"
    return str(value)


def _classification_labels() -> dict:
    """The classification's names, from the matter model's field choices (no data is read)."""
    field = apps.get_model("matters", "Matter")._meta.get_field("classification")
    return dict(field.flatchoices)


# --- exports ---------------------------------------------------------------------------------

EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv", exports.csv_lines),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl", exports.jsonl_lines),
}


@reviewer_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET)
    kind = request.GET.get("format", "")
    if not form.is_valid() or kind not in EXPORT_FORMATS:
        # An export never silently drops a filter: what was not understood is named on the list.
        if kind not in EXPORT_FORMATS:
            messages.error(request, _("Nothing was exported: choose CSV or JSON Lines."))
        else:
            messages.error(request, _("Nothing was exported: correct the filters named below."))
        return redirect(f"{reverse('audit:events')}?{request.GET.urlencode()}")
    event_filter = form.event_filter()
    # Recorded before the first byte leaves: the middleware withholds the response if it cannot be.
    record_event(
        AuditAction.AUDIT_EXPORT,
        detail={"format": kind, "filters": event_filter.as_detail(), "limit": exports.EXPORT_LIMIT},
    )
    content_type, extension, lines = EXPORT_FORMATS[kind]
    events = event_filter.apply(events_for_review() if kind == "csv" else AuditEvent.objects.all())
    return _attachment(lines(events), content_type, f"custos-audit-events-{_stamp()}.{extension}")


@reviewer_required
@require_GET
def checkpoints_file(request: HttpRequest) -> HttpResponse:
    last = AuditCheckpoint.objects.order_by("-seq").values_list("seq", flat=True).first()
    record_event(AuditAction.AUDIT_CHECKPOINT_EXPORT, detail={"up_to": last})
    return _attachment(export_lines(), "application/x-ndjson; charset=utf-8", f"custos-checkpoints-{_stamp()}.jsonl")


def _attachment(content, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M%S")


# --- the chain ---------------------------------------------------------------------------------


@reviewer_required
@require_GET
def chain_status(request: HttpRequest) -> HttpResponse:
    return _chain_page(request, VerifyForm())


def _chain_page(request: HttpRequest, form: VerifyForm, status: int = 200) -> HttpResponse:
    head_seq, head_hash, head_event = chain_head()
    context = {
        "head_seq": head_seq,
        "head_hash": head_hash.hex() if head_seq else "",
        "head_event": head_event,
        "pending": pending_count(),
        "checkpoint": AuditCheckpoint.objects.order_by("-seq").first(),
        "verifications": AuditVerification.objects.select_related("requested_by")[:RECENT_VERIFICATIONS],
        "form": form,
        "statuses": VerificationStatus,
    }
    return render(request, "audit/chain.html", context, status=status)


@reviewer_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _chain_page(request, form, status=400)
    upload = form.cleaned_data["checkpoint_file"]
    lines = form.checkpoint_lines if upload is not None else []
    file_name = upload.name if upload is not None else ""
    record_event(AuditAction.AUDIT_VERIFY, detail={"checkpoint_file": upload is not None, "file_lines": len(lines)})
    verify_audit_trail_task.delay_on_commit(request.user.pk, lines, file_name)
    messages.success(request, _("Verification requested: its result is listed below when it finishes."))
    return redirect("audit:chain")


@reviewer_required
@require_GET
def verification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(AuditVerification.objects.select_related("requested_by"), pk=pk)
    findings = [_finding(item) for item in run.findings]
    return render(
        request,
        "audit/verification_detail.html",
        {"run": run, "findings": findings, "unlisted": max(run.problem_count - len(findings), 0)},
    )


def _finding(item: dict) -> dict:
    if item.get("code") == "error":
        text = _("The verification stopped with an error (%(error)s).") % {"error": item.get("detail", "")}
    else:
        text = describe(item)
    # A deleted event has no page to link to.
    linkable = bool(item.get("event")) and item.get("code") != "missing_event"
    return {"seq": item.get("seq"), "event": item.get("event"), "text": text, "linkable": linkable}
