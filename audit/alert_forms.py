"""Forms of the alert inbox, the alert page and the detection thresholds."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from audit.alerts import (
    CLASSIFICATION_LABELS,
    MAX_WINDOW_MINUTES,
    NOTE_MAX_LENGTH,
    OPEN_STATUSES,
    check_detection_settings,
    reviewers,
)
from audit.models import AlertStatus, DetectionSettings, Rule, Severity

OPEN_FILTER = ""
ALL_FILTER = "all"


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(OPEN_FILTER, _("Open and acknowledged")), (ALL_FILTER, _("All")), *AlertStatus.choices],
    )
    rule = forms.ChoiceField(label=_("Rule"), required=False, choices=[("", _("All rules")), *Rule.choices])
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any severity")), *Severity.choices],
    )

    def status_q(self) -> Q:
        status = self.cleaned_data.get("status", OPEN_FILTER) if self.is_bound else OPEN_FILTER
        if status == ALL_FILTER:
            return Q()
        if status == OPEN_FILTER:
            return Q(status__in=OPEN_STATUSES)
        return Q(status=status)

    def other_q(self) -> Q:
        """The filters other than status (the per-status counts apply these)."""
        q = Q()
        data = self.cleaned_data if self.is_bound else {}
        if data.get("rule"):
            q &= Q(rule=data["rule"])
        if data.get("severity") is not None:
            q &= Q(severity=data["severity"])
        return q


class AlertStatusForm(forms.Form):
    # Any status is accepted here: whether the change is allowed from the alert's
    # current status is the service's to say (audit.alerts.transition_to).
    status = forms.ChoiceField(choices=AlertStatus.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class AlertAssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_("Nobody"), to_field_name="pk"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = reviewers()
        self.fields["assignee"].label_from_instance = lambda user: user.get_username()


class AlertNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you checked and what you found. Do not copy client information into notes."),
    )


class DetectionSettingsForm(forms.ModelForm):
    work_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        coerce=int,
        choices=sorted(WEEKDAYS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    off_hours_min_classification = forms.TypedChoiceField(
        label=_("Matters classified at least"),
        coerce=int,
        choices=[(level, label) for level, label in CLASSIFICATION_LABELS.items() if level >= 20],
    )

    class Meta:
        model = DetectionSettings
        fields = [
            "bulk_download_enabled",
            "bulk_download_count",
            "bulk_download_minutes",
            "denial_burst_enabled",
            "denial_burst_count",
            "denial_burst_minutes",
            "off_hours_enabled",
            "off_hours_min_classification",
            "work_days",
            "work_starts",
            "work_ends",
            "time_zone",
            "departing_staff_enabled",
        ]
        widgets = {
            "work_starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "work_ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        # Both rules have a count and a window: their labels say which is which.
        labels = {
            "bulk_download_count": _("More than this many downloads"),
            "bulk_download_minutes": _("Downloads within minutes"),
            "denial_burst_count": _("This many denials or more"),
            "denial_burst_minutes": _("Denials within minutes"),
        }
        help_texts = {
            "time_zone": _("A name such as Asia/Shanghai. Leave it empty for the server's time zone."),
            "work_ends": _("Working hours run from the start time up to, but not including, the end time."),
        }

    SECTIONS = (
        (_("Bulk downloads"), ("bulk_download_enabled", "bulk_download_count", "bulk_download_minutes")),
        (_("Bursts of denied attempts"), ("denial_burst_enabled", "denial_burst_count", "denial_burst_minutes")),
        (
            _("Confidential matters outside working hours"),
            ("off_hours_enabled", "off_hours_min_classification", "work_days", "work_starts", "work_ends", "time_zone"),
        ),
        (_("Departing and departed staff"), ("departing_staff_enabled",)),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limits themselves are checked in clean() (audit.alerts.check_detection_settings).
        for name in ("bulk_download_count", "denial_burst_count"):
            self.fields[name].widget.attrs["min"] = 1
        for name in ("bulk_download_minutes", "denial_burst_minutes"):
            self.fields[name].widget.attrs.update({"min": 1, "max": MAX_WINDOW_MINUTES})
        self.fields["time_zone"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"].strip()

    def clean(self):
        cleaned = super().clean()
        try:
            check_detection_settings(cleaned)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned
