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
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import services
from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant, User, UserSession
from lawfirm.admin_site import ReadOnlyAdminMixin

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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

    @admin.action(description=_("Reset second factor (the person enrols again at next sign-in)"))
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            services.reset_second_factor(actor=request.user, user=user)
        self.message_user(request, _("Second factor reset for %(count)d people.") % {"count": len(queryset)})

    @admin.action(description=_("Sign out everywhere"))
    def end_all_sessions(self, request, queryset):
        ended = sum(services.end_sessions(user) for user in queryset)
        self.message_user(request, _("%(count)d sessions ended.") % {"count": ended})


class GrantForm(forms.ModelForm):
    """Chooses a level rather than a raw permission, and checks the grant as the service will."""

    level = forms.ChoiceField(label=_("level"), choices=GrantLevel.choices)

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
                reason=data.get("reason") or "",
                expires_at=data.get("expires_at"),
                user=grantee if field == "user" else None,
                group=grantee if field == "group" else None,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class GrantAdmin(admin.ModelAdmin):
    """Shared by both grant tables: the grantee field is the only difference.

    Once made, a grant's person (or group) and matter are fixed: changing them
    would be a different grant, so it is revoked and granted anew instead.
    """

    grantee: str
    form = GrantForm
    list_display = ("matter_number", "grantee_display", "level_display", "granted_by", "created_at", "expires_at")
    list_select_related = ("content_object", "permission", "granted_by")
    search_fields = ("content_object__number",)
    list_filter = ("permission__codename",)

    def get_fields(self, request, obj=None):
        return (self.grantee, "content_object", "level", "reason", "expires_at", "granted_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        fixed = (self.grantee, "content_object") if obj is not None else ()
        return (*fixed, "granted_by", "created_at")

    def get_form(self, request, obj=None, **kwargs):
        editable = ("level", "reason", "expires_at")
        kwargs["fields"] = editable if obj is not None else (self.grantee, "content_object", *editable)
        return super().get_form(request, obj, **kwargs)

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
    list_select_related = (*GrantAdmin.list_select_related, "user")
    search_fields = (*GrantAdmin.search_fields, "user__username", "user__last_name")
    autocomplete_fields = ("content_object", "user")

    @admin.display(description=_("person"), ordering="user__username")
    def grantee_display(self, obj):
        return obj.user


@admin.register(MatterGroupGrant)
class MatterGroupGrantAdmin(GrantAdmin):
    grantee = "group"
    list_select_related = (*GrantAdmin.list_select_related, "group")
    search_fields = (*GrantAdmin.search_fields, "group__name")
    autocomplete_fields = ("content_object", "group")

    @admin.display(description=_("group"), ordering="group__name")
    def grantee_display(self, obj):
        return obj.group


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who is signed in where; to end sessions use the people list's "Sign out everywhere"."""

    list_display = ("user", "created_at", "ip_address", "user_agent")
    list_select_related = ("user",)
    search_fields = ("user__username",)
