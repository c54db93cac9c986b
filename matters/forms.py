from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from matters.models import Classification, Matter, MatterStatus, Party, PracticeArea
from matters.uploads import KINDS, allowed_extensions
from vault.blind import blind_index

_UNKNOWN = {"invalid_choice": _("“%(value)s” is not one of the choices; it was left out.")}


def search_q(term: str) -> Q:
    """Matters whose number contains ``term``, or whose client or a party has it as full name or ID number.

    Names and identifiers are encrypted, so they match exactly (after the blind
    index's normalization: case, width and spacing do not matter), never in part.
    """
    name, identifier = blind_index(term, "name"), blind_index(term, "identifier")
    q = Q(number__icontains=term)
    if name:
        q |= Q(client__name_index=name) | Q(pk__in=Party.objects.filter(name_index=name).values("matter_id"))
    if identifier:
        q |= Q(client__id_number_index=identifier) | Q(
            pk__in=Party.objects.filter(id_number_index=identifier).values("matter_id")
        )
    return q


class MatterFilterForm(forms.Form):
    """The list's search box and filters; an unknown value is named, not ignored silently."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Part of a matter number, or a client's or party's full name or ID number"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *MatterStatus.choices],
        error_messages=_UNKNOWN,
    )
    classification = forms.TypedChoiceField(
        label=_("Classification"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any classification")), *Classification.choices],
        error_messages=_UNKNOWN,
    )
    practice_area = forms.ChoiceField(
        label=_("Practice area"),
        required=False,
        choices=[("", _("Any practice area")), *PracticeArea.choices],
        error_messages=_UNKNOWN,
    )

    def matter_q(self) -> Q | None:
        """The chosen filters as one condition on matters, or None when there are none."""
        data = getattr(self, "cleaned_data", {})
        q = Q()
        if data.get("q"):
            q &= search_q(data["q"].strip())
        for field in ("status", "classification", "practice_area"):
            if data.get(field) not in (None, ""):
                q &= Q(**{field: data[field]})
        return q or None


class DocumentUploadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    classification = forms.TypedChoiceField(label=_("Classification"), coerce=int, choices=Classification.choices)
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, matter: Matter, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.matter = matter
        self.fields["classification"].choices = [
            (value, label) for value, label in Classification.choices if value >= matter.classification
        ]
        self.fields["classification"].initial = matter.classification
        self.fields["file"].widget.attrs["accept"] = ",".join(sorted(KINDS))
        self.fields["file"].help_text = _("Up to %(limit)d MB. Accepted: %(types)s.") % {
            "limit": max_bytes // (1024 * 1024),
            "types": allowed_extensions(),
        }
