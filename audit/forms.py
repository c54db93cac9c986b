"""Forms of the review screens: the event filters and the "Verify now" button."""

from __future__ import annotations

import datetime
import ipaddress

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from audit.actions import AuditAction, Outcome
from audit.checkpoints import CheckpointFileError, parse_file_lines
from audit.events import fingerprint
from audit.selectors import EventFilter, network_supported

CHECKPOINT_FILE_LIMIT = 5 * 1024 * 1024

_UNKNOWN = {"invalid_choice": _("“%(value)s” is not one of the choices; it was left out.")}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class EventFilterForm(forms.Form):
    """Every filter is optional; a value that cannot be used is named on the page and left out.

    Matters and clients are looked up by number and code through the app
    registry, reading only their ids: the audit app depends on no other app of
    ours, and the security officer is never shown a matter's contents.
    """

    person = forms.CharField(label=_("Person"), required=False, max_length=150, help_text=_("Exact username"))
    person_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    matter = forms.CharField(label=_("Matter number"), required=False, max_length=32)
    matter_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    client = forms.CharField(label=_("Client code"), required=False, max_length=20)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *AuditAction.choices],
        error_messages=_UNKNOWN,
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("Any outcome")), *Outcome.choices], error_messages=_UNKNOWN
    )
    ip = forms.CharField(
        label=_("IP address"),
        required=False,
        max_length=64,
        help_text=_("An address, or a network such as 10.1.0.0/16"),
    )
    since = forms.DateTimeField(label=_("From"), required=False, widget=DateTimeLocalInput)
    until = forms.DateTimeField(
        label=_("Until"), required=False, widget=DateTimeLocalInput, help_text=_("Including that minute")
    )
    term = forms.CharField(
        label=_("Search term"),
        required=False,
        max_length=100,
        help_text=_("Finds searches for exactly this term; the term itself is not kept."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, fixed: dict | None = None, **kwargs):
        """``fixed``: filters the page sets itself (a timeline's person or matter); their fields are dropped."""
        super().__init__(*args, **kwargs)
        self.fixed = fixed or {}
        self.labels: dict[str, str] = {}  # the number and code asked for, recorded with the review
        for name in self.fixed:
            self.fields.pop(name, None)
            if name == "person_id":
                self.fields.pop("person", None)
            if name == "matter_id":
                self.fields.pop("matter", None)
                self.fields.pop("client", None)

    def clean_person(self) -> int | None:
        username = self.cleaned_data.get("person", "").strip()
        if not username:
            return None
        user_id = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
        if user_id is None:
            raise forms.ValidationError(_("No person has this username."), code="unknown")
        return user_id

    def clean_matter(self):
        number = self.cleaned_data.get("matter", "").strip()
        if not number:
            return None
        # Only the id is read: the matter's contents never reach the review screens.
        matter_id = apps.get_model("matters", "Matter").objects.filter(number=number).values_list("pk", flat=True)
        found = matter_id.first()
        if found is None:
            raise forms.ValidationError(_("No matter has this number."), code="unknown")
        self.labels["matter_number"] = number
        return found

    def clean_client(self):
        code = self.cleaned_data.get("client", "").strip()
        if not code:
            return None
        client_id = apps.get_model("matters", "Client").objects.filter(code=code).values_list("pk", flat=True).first()
        if client_id is None:
            raise forms.ValidationError(_("No client has this code."), code="unknown")
        self.labels["client_code"] = code
        return client_id

    def clean_ip(self):
        text = self.cleaned_data.get("ip", "").strip()
        if not text:
            return None
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise forms.ValidationError(_("This is not an IP address or network."), code="invalid") from None
        if not network_supported(network):
            raise forms.ValidationError(
                _("This database can filter by single addresses and IPv4 networks of /8, /16 or /24 only."),
                code="unsupported",
            )
        return network

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("“Until” is before “From”."))
        return data

    def event_filter(self) -> EventFilter:
        """The valid filters (an invalid one is left out, and named by the form's errors)."""
        data = {**getattr(self, "cleaned_data", {}), **self.fixed}
        until = data.get("until")
        if until is not None and until.second == 0 and until.microsecond == 0:
            until += datetime.timedelta(minutes=1)  # "until 17:30" includes 17:30:59
        term = data.get("term", "")
        return EventFilter(
            actor_id=data.get("person_id") or data.get("person"),
            matter_id=data.get("matter_id") or data.get("matter"),
            client_id=data.get("client"),
            action=data.get("action", ""),
            outcome=data.get("outcome", ""),
            network=data.get("ip"),
            since=data.get("since"),
            until=until,
            term_fingerprint=fingerprint(term) if term and term.strip() else "",
            labels=dict(self.labels),
        )

    def query_string(self, **extra) -> str:
        """The valid filters as a query string, for the paging and export links."""
        query = self.data.copy() if hasattr(self.data, "copy") else dict(self.data)
        for name in ("before", "after", "format"):
            query.pop(name, None)
        for name in list(query):
            if name not in self.fields or name in self.errors or not query.get(name):
                query.pop(name, None)
        for name, value in extra.items():
            query[name] = value
        return query.urlencode() if hasattr(query, "urlencode") else ""

    @property
    def has_filters(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class VerifyForm(forms.Form):
    checkpoint_file = forms.FileField(
        label=_("Exported checkpoint file (optional)"),
        required=False,
        help_text=_("A file downloaded earlier with “Download checkpoints”, up to 5 MB."),
    )

    def clean_checkpoint_file(self):
        upload = self.cleaned_data.get("checkpoint_file")
        if upload is None:
            return None
        if upload.size > CHECKPOINT_FILE_LIMIT:
            raise forms.ValidationError(_("The file is larger than 5 MB."), code="too_large")
        lines = [line.decode("utf-8", errors="replace") for line in upload]
        for number, line in enumerate(lines, start=1):
            try:
                parse_file_lines([line])  # one line at a time, to name the line that is wrong
            except CheckpointFileError:
                raise forms.ValidationError(
                    _("Line %(number)d is not an exported Custos checkpoint."), params={"number": number}, code="bad"
                ) from None
        self.checkpoint_lines = [line for line in lines if line.strip()]
        if not self.checkpoint_lines:
            raise forms.ValidationError(_("The file holds no checkpoints."), code="empty")
        return upload
