"""Forms of the matter team page: adding a person or a team, changing a level, revoking."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import EmploymentStatus, GrantLevel, Role, User


def eligible_people(exclude: User | None = None) -> QuerySet[User]:
    """Active people who have not left (a departing person counts until their departure date)."""
    departed = Q(employment_status=EmploymentStatus.DEPARTED) | Q(
        employment_status=EmploymentStatus.DEPARTING, departure_date__lte=timezone.localdate()
    )
    people = User.objects.filter(is_active=True).exclude(departed)
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    return people.order_by("last_name", "first_name", "username")


def teams() -> QuerySet[Group]:
    """Groups that are teams, not roles: only teams hold matter grants."""
    return Group.objects.exclude(name__in=Role.values).order_by("name")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


class _AddForm(forms.Form):
    """What both additions ask: level, end date and reason (the service checks the rest)."""

    level = forms.TypedChoiceField(label=_("Level"), choices=GrantLevel.choices, coerce=GrantLevel)
    ends_on = forms.DateField(
        label=_("Access until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Access lasts to the end of this day. Leave empty for no end date, except on a highly confidential matter."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with the grant."),
    )

    def service_kwargs(self) -> dict:
        """The arguments of ``access.services.add_team_member`` this form collected."""
        return dict(self.cleaned_data)


class AddPersonForm(_AddForm):
    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none())

    field_order = ("user", "level", "ends_on", "reason")

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Nobody gives themselves access: the manager is not offered.
        self.fields["user"].queryset = eligible_people(exclude=actor)


class AddGroupForm(_AddForm):
    group = forms.ModelChoiceField(label=_("Team (group)"), queryset=Group.objects.none())

    field_order = ("group", "level", "ends_on", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = teams()


class RevokeForm(forms.Form):
    # Not required here: the service says why an empty reason is refused.
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
