"""The alert inbox, an alert's page and the detection thresholds: the security officer's only (404 for anyone else)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.alert_forms import (
    ALL_FILTER,
    OPEN_FILTER,
    AlertAssignForm,
    AlertFilterForm,
    AlertNoteForm,
    AlertStatusForm,
    DetectionSettingsForm,
)
from audit.alerts import (
    OPEN_STATUSES,
    AlertError,
    add_note,
    assign,
    describe_alert,
    describe_threshold,
    transition_to,
    update_detection_settings,
)
from audit.models import ALERT_TRANSITIONS, Alert, AlertStatus, DetectionSettings, Rule
from audit.permissions import reviewer_required

ALERTS_PAGE_SIZE = 25
MINUTE_FORMAT = "%Y-%m-%dT%H:%M"

# The button that moves an alert to each status, in the order they are offered.
STATUS_BUTTONS = {
    AlertStatus.ACKNOWLEDGED: gettext_lazy("Acknowledge"),
    AlertStatus.RESOLVED: gettext_lazy("Resolve"),
    AlertStatus.FALSE_POSITIVE: gettext_lazy("Mark as false positive"),
    AlertStatus.OPEN: gettext_lazy("Reopen"),
}


@reviewer_required
def inbox(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # the valid filters apply; an invalid one is named on the page
    others = Alert.objects.filter(form.other_q())
    counts = dict(others.order_by().values_list("status").annotate(n=Count("pk")))
    alerts = others.filter(form.status_q()).select_related("assignee").order_by("-created_at", "-pk")
    page = Paginator(alerts, ALERTS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for alert in page.object_list:
        alert.sentence = describe_alert(alert)
        alert.who = alert.subject_username or alert.facts.get("ip", "")
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "tabs": _status_tabs(form, counts),
    }
    return render(request, "audit/alerts.html", context)


def _status_tabs(form: AlertFilterForm, counts: dict[str, int]) -> list[dict]:
    current = form.cleaned_data.get("status", OPEN_FILTER) if form.is_bound else OPEN_FILTER
    others = {name: form.data[name] for name in ("rule", "severity") if form.is_bound and form.data.get(name)}
    tabs = [(OPEN_FILTER, _("Open and acknowledged"), sum(counts.get(s, 0) for s in OPEN_STATUSES))]
    tabs += [(value, label, counts.get(value, 0)) for value, label in AlertStatus.choices]
    tabs.append((ALL_FILTER, _("All"), sum(counts.values())))
    return [
        {
            "label": label,
            "count": count,
            "current": value == current,
            "query": urlencode({**({"status": value} if value else {}), **others}),
        }
        for value, label, count in tabs
    ]


@reviewer_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("assignee"), pk=pk)
    forms = {
        "status": AlertStatusForm(),
        "assign": AlertAssignForm(initial={"assignee": alert.assignee_id}),
        "note": AlertNoteForm(),
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in _CHANGES:
            form_class, change, done = _CHANGES[action]
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    change(alert, form.cleaned_data, request.user)
                except AlertError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, done)
                    return redirect("audit:alert_detail", pk=alert.pk)
            forms[action] = form
    allowed = ALERT_TRANSITIONS[alert.status]
    context = {
        "alert": alert,
        "sentence": describe_alert(alert),
        "threshold": describe_threshold(alert),
        "status_buttons": [(status, label) for status, label in STATUS_BUTTONS.items() if status in allowed],
        "events_url": _events_url(alert),
        "notes": alert.notes.select_related("author"),
        **{f"{name}_form": form for name, form in forms.items()},
    }
    return render(request, "audit/alert_detail.html", context)


def _change_status(alert, data, user):
    transition_to(alert, data["status"], actor=user, note=data["note"])


def _assign(alert, data, user):
    assign(alert, data["assignee"], actor=user)


def _add_note(alert, data, user):
    add_note(alert, data["text"], actor=user)


_CHANGES = {
    "status": (AlertStatusForm, _change_status, gettext_lazy("The alert's status was changed.")),
    "assign": (AlertAssignForm, _assign, gettext_lazy("The alert's assignee was changed.")),
    "note": (AlertNoteForm, _add_note, gettext_lazy("Your note was added.")),
}


def _events_url(alert: Alert) -> str:
    """The review list (audit.forms.EventFilterForm) of the events in the alert's window,
    for its person (or address) and, for off-hours alerts, its matter. The list filters
    by the minute, in local time, "until" including its minute."""
    params = {
        "since": timezone.localtime(alert.window_start).strftime(MINUTE_FORMAT),
        "until": timezone.localtime(alert.window_end).strftime(MINUTE_FORMAT),
    }
    if alert.subject_id is not None:
        params["person_id"] = alert.subject_id
    elif alert.facts.get("ip"):
        params["ip"] = alert.facts["ip"]
    if alert.rule == Rule.OFF_HOURS and alert.matter_id:
        params["matter_id"] = alert.matter_id
    return f"{reverse('audit:events')}?{urlencode(params)}"


@reviewer_required
def detection_settings(request: HttpRequest) -> HttpResponse:
    current = DetectionSettings.current()
    form = DetectionSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            update_detection_settings(actor=request.user, values=form.cleaned_data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("The detection thresholds were saved."))
            return redirect("audit:detection_settings")
    context = {
        "form": form,
        "updated_at": current.updated_at if current.updated_by_id else None,
        "updated_by": current.updated_by,
    }
    return render(request, "audit/detection_settings.html", context)
