"""Forms of the ethical wall pages: erecting a wall, lifting it."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from access.models import User, WallKind
from access.team_forms import eligible_people, teams
from matters.models import Client, ConflictCheck, Matter


def conflict_check_by_id(value: str) -> ConflictCheck | None:
    """The conflict check with this id, or None (for a malformed id too)."""
    try:
        pk = uuid.UUID(str(value))
    except ValueError:
        return None
    return ConflictCheck.objects.filter(pk=pk).first()


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


class WallForm(forms.Form):
    """A new wall. The scope is typed — a matter number, a client code, or both — and resolved
    here (``matter`` and ``client`` in ``cleaned_data``); ``access.wall_services`` checks the rest."""

    kind = forms.ChoiceField(label=_("Kind"), choices=WallKind.choices, widget=forms.RadioSelect)
    matter_number = forms.CharField(
        label=_("Matter number"),
        max_length=32,
        required=False,
        help_text=_("The matter the wall is around. Leave empty to wall off every matter of the client."),
    )
    client_code = forms.CharField(
        label=_("Client code"),
        max_length=20,
        required=False,
        help_text=_("Every matter of this client, present and future. Not needed when a matter number is given."),
    )
    people = PeopleField(
        label=_("People"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Exclusionary: the people kept out. Inclusionary: the people let in."),
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("Teams (groups)"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("Everyone in these teams, now and later, is named by the wall."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why the wall is needed. Kept encrypted; shown only to the security officer and conflicts partners."
        ),
    )
    memo = forms.CharField(
        label=_("Memo to the people named"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the people named must know and do. They read it in Custos and acknowledge it."),
    )
    requires_acknowledgement = forms.BooleanField(
        label=_("Inclusionary wall: the people let in must acknowledge the memo before opening the matters"),
        required=False,
    )
    # The conflict check the wall answers (set when the page was opened from one): resolved in clean().
    conflict_check = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = eligible_people()
        self.fields["groups"].queryset = teams()
        if not self.is_bound:
            self.fields["requires_acknowledgement"].initial = settings.WALLS_REQUIRE_ACKNOWLEDGEMENT

    def clean(self) -> dict:
        cleaned = super().clean()
        number = (cleaned.get("matter_number") or "").strip()
        code = (cleaned.get("client_code") or "").strip()
        matter = client = None
        if number:
            matter = Matter.objects.select_related("client").filter(number__iexact=number).first()
            if matter is None:
                self.add_error("matter_number", _("No matter has this number."))
        if code:
            client = Client.objects.filter(code__iexact=code).first()
            if client is None:
                self.add_error("client_code", _("No client has this code."))
        if not number and not code:
            self.add_error("matter_number", _("Give a matter number or a client code."))
        if matter is not None and client is None and not code:
            client = matter.client
        cleaned["matter"], cleaned["client"] = matter, client
        cleaned["conflict_check"] = self._conflict_check(cleaned.get("conflict_check") or "")
        return cleaned

    def _conflict_check(self, value: str) -> ConflictCheck | None:
        if not value:
            return None
        found = conflict_check_by_id(value)
        if found is None:
            self.add_error(None, _("The conflict check this wall answers no longer exists. Open the page again."))
        return found

    def service_kwargs(self) -> dict:
        """The arguments of ``access.wall_services.erect_wall`` this form collected."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "client": data["client"],
            "matter": data["matter"],
            "people": list(data.get("people") or ()),
            "groups": list(data.get("groups") or ()),
            "reason": data.get("reason") or "",
            "memo": data.get("memo") or "",
            "requires_acknowledgement": data.get("requires_acknowledgement", False),
            "conflict_check": data.get("conflict_check"),
        }


class LiftForm(forms.Form):
    # Not required here: the service says why an empty reason is refused.
    reason = forms.CharField(
        label=_("Reason for lifting"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
