"""Forms of emergency access: opening a matter in an emergency, and its review.

The forms check what was typed; whether the matter may be opened is the service's
(``access.break_glass``), which answers every refusal about the matter alike.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from access.break_glass import NOTE_MAX, REASON_MAX, check_reason
from access.models import BreakGlassStatus


class BreakGlassForm(forms.Form):
    number = forms.CharField(
        label=_("Matter number"),
        max_length=32,
        error_messages={"required": _("Enter the matter number.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=_("What is the emergency?"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Explain the emergency: the security officer reviews it.")},
        help_text=_(
            "Why you must open this matter now, without waiting for an access request. The security officer reads it."
        ),
    )
    confirmed = forms.BooleanField(
        label=_("I understand this is recorded and the security officer is alerted."),
        error_messages={
            "required": _("Confirm that you understand this is recorded and the security officer is alerted.")
        },
    )

    def clean_reason(self) -> str:
        try:
            return check_reason(self.cleaned_data["reason"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["reason"]) from None


class BreakGlassReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Your review"),
        choices=[
            (BreakGlassStatus.JUSTIFIED.value, BreakGlassStatus.JUSTIFIED.label),
            (BreakGlassStatus.UNJUSTIFIED.value, BreakGlassStatus.UNJUSTIFIED.label),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose justified or not justified."),
            "invalid_choice": _("Choose justified or not justified."),
        },
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the access was not justified."),
    )
    revoke = forms.BooleanField(label=_("End the access now, if it is still in force"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == BreakGlassStatus.UNJUSTIFIED and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Say why the emergency access was not justified."))
        return cleaned
