"""Forms of the access review pages: starting a campaign, a reviewer's answer, removing stale access."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.reviews import CONFIRM, REVOKE, stale_grants


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("Optional: the year and quarter otherwise."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    closes_on = forms.DateField(
        label=_("Closes on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the day the review closes."), "invalid": _("Enter a valid date.")},
        help_text=_("Partners confirm or revoke until the end of this day; what is left unconfirmed is then revoked."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read per form, not at import: the period is a setting and the day moves on.
        self.fields["closes_on"].initial = timezone.localdate() + timedelta(days=settings.ACCESS_REVIEW_DAYS)

    def clean_closes_on(self):
        closes_on = self.cleaned_data["closes_on"]
        if closes_on <= timezone.localdate():
            raise forms.ValidationError(_("The closing day must be after today."))
        return closes_on


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(CONFIRM, _("Confirm")), (REVOKE, _("Revoke"))],
        error_messages={
            "required": _("Choose confirm or revoke."),
            "invalid_choice": _("Choose confirm or revoke."),
        },
    )


class StaleRevokeForm(forms.Form):
    """The grants to remove, by id: only ones that are still stale are accepted."""

    grants = forms.ModelMultipleChoiceField(
        label=_("Grants"),
        queryset=None,
        error_messages={
            "required": _("Choose at least one grant to remove."),
            "invalid_choice": _("A grant chosen is no longer proposed for removal. Reload the page."),
            "invalid_pk_value": _("A grant chosen is no longer proposed for removal. Reload the page."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grants"].queryset = stale_grants()
