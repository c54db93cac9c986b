"""Forms of the client keys screens."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored encrypted under the client's key; shown only to the security officer."),
    )


class ConfirmCodeForm(forms.Form):
    """Destroying keys cannot be undone: the client's code is typed, not clicked."""

    code = forms.CharField(
        label=_("Client code"),
        max_length=20,
        help_text=_("Type the client's code to confirm. Its data cannot be recovered afterwards."),
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if code != self.client.code:
            raise forms.ValidationError(_("This is not the code of this client."), code="mismatch")
        return code


class KeyClientFilterForm(forms.Form):
    code = forms.CharField(label=_("Client code"), required=False, max_length=20)
