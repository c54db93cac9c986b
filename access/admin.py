"""Administration of people, roles and matter grants.

Grants are created and removed through :mod:`access.services`, so the admin
and every other path obey the same rules. django-otp's device admin is not
registered: it would show an administrator a person's TOTP secret. An
administrator resets a lost second factor instead.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import services
from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant, User, UserSession
from lawfirm.admin_site import ReadOnlyAdminMixin, StrictLookupsMixin

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class UserAdmin(StrictLookupsMixin, DjangoUserAdmin):
    """People and their roles.

    An administrator who is not a superuser manages ordinary accounts only: not
    their own (no adding oneself to a team that holds grants), not other staff,
    and never passwords (a person sets their own, on the account page) — so the
    role cannot be turned into a way of reading matters.
    """

    list_display = ("username", "first_name", "last_name", "department", "employment_status", "is_active", "is_staff")
    list_filter = ("employment_status", "department", "groups", "is_active", "is_staff", "is_superuser")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Employment details"),
            {"fields": ("department", "employment_status", "start_date", "departure_date", "manager")},
        ),
    )
    autocomplete_fields = ("manager",)
    actions = ["reset_second_factor", "end_all_sessions"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        return ("is_superuser", "is_staff", "user_permissions", "last_login", "date_joined")

    def has_change_permission(self, request, obj=None):
        if obj is not None and not request.user.is_superuser and (obj.pk == request.user.pk or obj.is_staff):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied(_("Only a superuser sets another person's password; people change their own."))
        return super().user_change_password(request, id, form_url)

    def _changeable(self, request, queryset):
        return [user for user in queryset if self.has_change_permission(request, user)]

    @admin.action(description=_("Reset second factor (the person enrols again at next sign-in)"))
    def reset_second_factor(self, request, queryset):
        users = self._changeable(request, queryset)
        for user in users:
            services.reset_second_factor(actor=request.user, user=user)
        self.message_user(request, _("Second factor reset for %(count)d people.") % {"count": len(users)})

    @admin.action(description=_("Sign out everywhere"))
    def end_all_sessions(self, request, queryset):
        ended = sum(services.end_sessions(user) for user in self._changeable(request, queryset))
        self.message_user(request, _("%(count)d sessions ended.") % {"count": ended})


class LevelFilter(admin.SimpleListFilter):
    """Filter grants by level, not by the raw permission codenames of every model."""

    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return GrantLevel.choices

    def queryset(self, request, queryset):
        if self.value() in GrantLevel.values:
            return queryset.filter(permission__codename=self.value())
        return queryset


class GrantForm(forms.ModelForm):
    """Chooses a level rather than a raw permission, and checks the grant as the service will."""

    level = forms.ChoiceField(label=_("Level"), choices=GrantLevel.choices)
    actor = None  # set per request by GrantAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = True
        if self.instance.pk:
            self.fields["level"].initial = self.instance.permission.codename

    def clean(self):
        data = super().clean()
        field = "user" if hasattr(self.instance, "user_id") else "group"
        grantee = data.get(field) if field in self.fields else getattr(self.instance, field)
        if grantee is None:
            return data  # the missing field carries its own error
        try:
            services.check_grant(
                actor=self.actor,
                reason=data.get("reason") or "",
                expires_at=data.get("expires_at"),
                user=grantee if field == "user" else None,
                group=grantee if field == "group" else None,
                matter=data.get("content_object") or getattr(self.instance, "content_object", None),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class GrantAdmin(StrictLookupsMixin, admin.ModelAdmin):
    """Shared by both grant tables: the grantee field is the only difference.

    Once made, a grant's person (or group) and matter are fixed: changing them
    would be a different grant, so it is revoked and granted anew instead.
    """

    grantee: str
    form = GrantForm
    list_display = ("matter_number", "grantee_display", "level_display", "granted_by", "created_at", "expires_at")
    list_select_related = ("content_object", "permission", "granted_by")
    search_fields = ("content_object__number",)
    list_filter = (LevelFilter,)

    def get_fields(self, request, obj=None):
        recorded = ("granted_by", "created_at") if obj is not None else ()
        return (self.grantee, "content_object", "level", "reason", "expires_at", *recorded)

    def get_readonly_fields(self, request, obj=None):
        fixed = (self.grantee, "content_object") if obj is not None else ()
        return (*fixed, "granted_by", "created_at")

    def get_form(self, request, obj=None, **kwargs):
        editable = ("level", "reason", "expires_at")
        kwargs["fields"] = editable if obj is not None else (self.grantee, "content_object", *editable)
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # the generated class is this request's own
        if self.grantee in form.base_fields:
            form.base_fields[self.grantee].label = self.grantee_label
        return form

    @admin.display(description=_("matter"), ordering="content_object__number")
    def matter_number(self, obj):
        return obj.content_object.number

    @admin.display(description=_("level"))
    def level_display(self, obj):
        return obj.level.label

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        grant = services.grant_matter_access(
            actor=request.user,
            matter=data.get("content_object") or obj.content_object,
            level=GrantLevel(data["level"]),
            reason=data["reason"],
            expires_at=data.get("expires_at"),
            **{self.grantee: data.get(self.grantee) or getattr(obj, self.grantee)},
        )
        # The admin's change message and redirect name the grant the service saved.
        obj.pk = grant.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.revoke_matter_access(actor=request.user, grant=obj)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            services.revoke_matter_access(actor=request.user, grant=grant)


@admin.register(MatterUserGrant)
class MatterUserGrantAdmin(GrantAdmin):
    grantee = "user"
    grantee_label = _("Person")
    list_select_related = (*GrantAdmin.list_select_related, "user")
    search_fields = (*GrantAdmin.search_fields, "user__username", "user__last_name")
    autocomplete_fields = ("content_object", "user")

    @admin.display(description=_("person"), ordering="user__username")
    def grantee_display(self, obj):
        return obj.user


@admin.register(MatterGroupGrant)
class MatterGroupGrantAdmin(GrantAdmin):
    grantee = "group"
    grantee_label = _("Group")
    list_select_related = (*GrantAdmin.list_select_related, "group")
    search_fields = (*GrantAdmin.search_fields, "group__name")
    autocomplete_fields = ("content_object", "group")

    @admin.display(description=_("group"), ordering="group__name")
    def grantee_display(self, obj):
        return obj.group


@admin.register(UserSession)
class UserSessionAdmin(StrictLookupsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who is signed in where; to end sessions use the people list's "Sign out everywhere".

    The session key is never shown: it is the session cookie's value.
    """

    list_display = ("user", "created_at", "ip_address", "user_agent")
    fields = ("user", "created_at", "ip_address", "user_agent")
    list_select_related = ("user",)
    list_filter = ("created_at",)
    search_fields = ("user__username",)
