"""Forms for signing an agreement or policy, and for HR's documents and versions.

The signing form checks only what was typed; whether the name matches the
account, whether the version is still the latest and whether it was signed
already are the service's (``training.services.sign_version``).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from training.models import DocumentKind, PolicyDocument

LANGUAGES = (("en", "English"), ("zh-hans", "简体中文"))


def reading_language(value: str | None) -> str:
    """The two languages a version is written in: Chinese for any ``zh*``, else English."""
    return "zh-hans" if (value or "").lower().startswith("zh") else "en"


class SignForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=150,
        error_messages={"required": _("Type your full name as it appears on your account.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    confirmed = forms.BooleanField(
        required=False,  # the service names a missing confirmation, with the other faults
    )
    language = forms.ChoiceField(choices=LANGUAGES, widget=forms.HiddenInput)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == DocumentKind.AGREEMENT:
            self.fields["confirmed"].label = _("I have read and agree to be bound by this agreement.")
            self.fields["typed_name"].help_text = _("Typing your name is your electronic signature.")
        else:
            self.fields["confirmed"].label = _("I have read and will follow this policy.")
            self.fields["typed_name"].help_text = _("Typing your name records your acknowledgement.")


class DocumentForm(forms.ModelForm):
    class Meta:
        model = PolicyDocument
        fields = ["kind", "title", "title_zh"]


class VersionForm(forms.Form):
    text_en = forms.CharField(
        label=_("Text in English"),
        widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": _("Give the text in English.")},
    )
    text_zh = forms.CharField(
        label=_("Text in Chinese"),
        widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": _("Give the text in Chinese.")},
    )
    changes = forms.CharField(
        label=_("What changed"),
        max_length=500,
        required=False,
        help_text=_("Shown to everyone asked to sign, above the text."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    sign_by = forms.DateField(
        label=_("Sign by"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date by which everyone must sign.")},
    )
