"""Forms of the access request screens: asking for a matter, approving, denying.

The request form checks only the shape of what was typed; every rule that
depends on the matter (its limit, whether one already holds access) is the
service's, which answers a number nobody may learn about exactly as one that
does not exist (``access.access_requests``).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from access.access_requests import REQUESTABLE_LEVELS, default_end, max_days


class AccessRequestForm(forms.Form):
    number = forms.CharField(
        label=_("Matter number"),
        max_length=32,
        error_messages={"required": _("Enter the matter number.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    level = forms.ChoiceField(
        label=_("Level"),
        choices=[(level.value, level.label) for level in REQUESTABLE_LEVELS],
        error_messages={"required": _("Choose view, download or edit.")},
    )
    ends_on = forms.DateField(
        label=_("Access until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the date access should end.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why you need access: the approvers decide on it.")},
        help_text=_("The approvers decide on it. You are told their answer."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read per form, not at import: the limits are settings.
        self.fields["ends_on"].initial = default_end
        self.fields["ends_on"].help_text = _(
            "Access lasts to the end of this day; %(default)d days from today unless you choose otherwise. "
            "Confidential and highly confidential matters are asked for by number and may be asked for "
            "at most %(strictest)d days."
        ) % {"default": settings.ACCESS_DEFAULT_DAYS, "strictest": max_days(None)}


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class DenyForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for denying"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Say why the request is denied: the requester is told.")},
    )
