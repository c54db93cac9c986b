"""Intake's forms: a new matter with its client and parties, the conflicts partner's
decision, and a lateral hire's prior engagements."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from access.models import EmploymentStatus, Role, User
from matters.intake_services import MAX_PARTIES, Decision, NewClient, PartyEntry, PriorEntry
from matters.models import (
    Classification,
    Client,
    ClientKind,
    IdentifierType,
    PartyRole,
    PracticeArea,
)

# Rows offered for a lateral hire's prior engagements at a time; blank rows are dropped.
PRIOR_ROWS = 5


class Row:
    """One repeated row of a form, for the template: its bound fields by short name."""

    def __init__(self, form: forms.Form, prefix: str, number: int, names: tuple[str, ...]):
        self.number = number
        self.prefix = prefix
        self.fields = {name: form[f"{prefix}_{number}_{name}"] for name in names}

    def __getitem__(self, name: str):
        return self.fields[name]

    @property
    def errors(self) -> list:
        return [error for field in self.fields.values() for error in field.errors]


def _row_fields(form: forms.Form, prefix: str, count: int) -> None:
    for number in range(1, count + 1):
        form.fields[f"{prefix}_{number}_name"] = forms.CharField(label=_("Name"), max_length=200, required=False)
        form.fields[f"{prefix}_{number}_id_type"] = forms.ChoiceField(
            label=_("Identifier type"), choices=IdentifierType.choices, required=False
        )
        form.fields[f"{prefix}_{number}_id_number"] = forms.CharField(
            label=_("Identifier"), max_length=64, required=False
        )


class IntakeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    practice_area = forms.ChoiceField(label=_("Practice area"), choices=PracticeArea.choices)
    classification = forms.TypedChoiceField(
        label=_("Classification"), coerce=int, choices=Classification.choices, initial=Classification.CONFIDENTIAL
    )
    responsible_partner = forms.ModelChoiceField(label=_("Responsible partner"), queryset=User.objects.none())
    client_code = forms.CharField(
        label=_("Existing client's code"),
        max_length=20,
        required=False,
        help_text=_("For a client the firm already acts for. Leave empty for a new client."),
    )
    new_client_name = forms.CharField(label=_("New client's name"), max_length=200, required=False)
    new_client_kind = forms.ChoiceField(
        label=_("Kind"), choices=ClientKind.choices, initial=ClientKind.ORGANIZATION, required=False
    )
    new_client_id_type = forms.ChoiceField(label=_("Identifier type"), choices=IdentifierType.choices, required=False)
    new_client_id_number = forms.CharField(label=_("Identifier"), max_length=64, required=False)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_partner"].queryset = (
            User.objects.filter(groups__name=Role.PARTNER.value, is_active=True)
            .exclude(employment_status=EmploymentStatus.DEPARTED)
            .order_by("last_name", "first_name", "username")
            .distinct()
        )
        if actor.has_role(Role.PARTNER):
            self.fields["responsible_partner"].initial = actor.pk
        _row_fields(self, "adverse", MAX_PARTIES)
        _row_fields(self, "related", MAX_PARTIES)

    def main_fields(self) -> list:
        return [self[name] for name in ("title", "description", "practice_area", "classification")]

    def client_fields(self) -> list:
        return [
            self[name] for name in ("new_client_name", "new_client_kind", "new_client_id_type", "new_client_id_number")
        ]

    def rows(self, prefix: str) -> list[Row]:
        return [Row(self, prefix, n, ("name", "id_type", "id_number")) for n in range(1, MAX_PARTIES + 1)]

    def adverse_rows(self) -> list[Row]:
        return self.rows("adverse")

    def related_rows(self) -> list[Row]:
        return self.rows("related")

    def clean(self):
        data = super().clean()
        code = (data.get("client_code") or "").strip()
        name = (data.get("new_client_name") or "").strip()
        data["client"] = data["new_client"] = None
        if code and name:
            self.add_error("client_code", _("Give an existing client's code or a new client's name, not both."))
        elif code:
            data["client"] = Client.objects.filter(code=code).only("pk", "code", "shredded_at").first()
            if data["client"] is None:
                self.add_error("client_code", _("No client has this code."))
        elif name:
            data["new_client"] = NewClient(
                name=name,
                kind=data.get("new_client_kind") or ClientKind.ORGANIZATION,
                id_type=data.get("new_client_id_type") or IdentifierType.NONE,
                id_number=data.get("new_client_id_number") or "",
            )
        else:
            self.add_error("client_code", _("Give an existing client's code, or the new client's name."))
        data["adverse"] = self._parties("adverse")
        data["related"] = self._parties("related")
        return data

    def _parties(self, prefix: str) -> list[PartyEntry]:
        """The filled rows; one with an identifier but no name is an error on its name."""
        entries = []
        for number in range(1, MAX_PARTIES + 1):
            name = (self.cleaned_data.get(f"{prefix}_{number}_name") or "").strip()
            id_number = (self.cleaned_data.get(f"{prefix}_{number}_id_number") or "").strip()
            if not name and not id_number:
                continue
            if not name:
                self.add_error(f"{prefix}_{number}_name", _("Enter the party's name as well as its identifier."))
                continue
            id_type = self.cleaned_data.get(f"{prefix}_{number}_id_type") or IdentifierType.NONE
            entries.append(PartyEntry(name=name, id_type=id_type, id_number=id_number))
        return entries


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Decision.CLEAR, _("Clear: no conflict")),
            (Decision.WALL, _("Clear with an ethical wall")),
            (Decision.REJECT, _("Reject: the firm cannot act")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the check; not recorded in the audit trail."),
    )


class LateralNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class PriorEngagementForm(forms.Form):
    """A lateral hire's prior clients and adversaries; the names are never stored, only
    their blind indexes, so a typo cannot be read back: enter them with care."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, PRIOR_ROWS + 1):
            self.fields[f"prior_{number}_label"] = forms.CharField(label=_("Label"), max_length=60, required=False)
            self.fields[f"prior_{number}_role"] = forms.ChoiceField(
                label=_("Role"), choices=PartyRole.choices, initial=PartyRole.CLIENT
            )
            self.fields[f"prior_{number}_name"] = forms.CharField(label=_("Name"), max_length=200, required=False)
            self.fields[f"prior_{number}_id_number"] = forms.CharField(
                label=_("Identifier"), max_length=64, required=False
            )

    def rows(self) -> list[Row]:
        return [Row(self, "prior", n, ("label", "role", "name", "id_number")) for n in range(1, PRIOR_ROWS + 1)]

    def clean(self):
        data = super().clean()
        entries = []
        for number in range(1, PRIOR_ROWS + 1):
            label = (data.get(f"prior_{number}_label") or "").strip()
            name = (data.get(f"prior_{number}_name") or "").strip()
            id_number = (data.get(f"prior_{number}_id_number") or "").strip()
            if not (label or name or id_number):
                continue
            if not label:
                self.add_error(f"prior_{number}_label", _("Give the entry a label (not the name)."))
            elif not (name or id_number):
                self.add_error(f"prior_{number}_name", _("Enter a name or an identifier."))
            else:
                role = data.get(f"prior_{number}_role") or PartyRole.CLIENT
                entries.append(PriorEntry(label=label, role=role, name=name, id_number=id_number))
        if not entries and not self.errors:
            raise forms.ValidationError(_("Fill in at least one row."))
        data["entries"] = entries
        return data
