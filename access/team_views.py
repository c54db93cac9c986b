"""The matter team page: its manager adds people and teams, changes levels and revokes.

Everyone without MANAGE on the matter gets 404 (recorded by the policy), the
people who only view it included. A HIGHLY CONFIDENTIAL matter keeps its
two-person rule here too: adding a person files a request carrying the
manager's approval, which waits for the security officer's.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from access.models import AccessRequest, MatterGroupGrant, MatterUserGrant, RequestStatus
from access.policy import Action, get_matter_for
from access.services import add_team_member, revoke_team_grant
from access.team_forms import AddGroupForm, AddPersonForm, RevokeForm
from audit.actions import AuditAction
from matters.models import Classification, Matter
from vault.fields import preload_keys

# A service's error keys that name something the forms ask under another name.
_FIELD_OF = {"requester": "user", "number": "user"}


def _managed_matter(request: HttpRequest, pk, audit_as: str | None = None) -> Matter:
    """The matter, if the user manages it; 404 otherwise — also for those who see it but do not manage it."""
    try:
        return get_matter_for(request.user, pk, Action.MANAGE, audit_as=audit_as)
    except PermissionDenied:
        raise Http404 from None


def team(request: HttpRequest, pk) -> HttpResponse:
    matter = _managed_matter(request, pk)
    person_form = AddPersonForm(actor=request.user, prefix="person")
    group_form = AddGroupForm(prefix="group")
    if request.method == "POST":
        if request.POST.get("add") == "group":
            form = group_form = AddGroupForm(request.POST, prefix="group")
        else:
            form = person_form = AddPersonForm(request.POST, actor=request.user, prefix="person")
        if form.is_valid():
            try:
                added = add_team_member(actor=request.user, matter=matter, **form.service_kwargs())
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _added_message(added, form))
                return redirect("access:team", pk=matter.pk)
    return render(request, "access/team/team.html", _context(request, matter, person_form, group_form))


def _added_message(added, form) -> str:
    holder = form.cleaned_data.get("user") or form.cleaned_data.get("group")
    if isinstance(added, AccessRequest):
        return _("%(person)s will have access once the security officer approves.") % {"person": holder}
    return _("Access given to %(person)s.") % {"person": holder}


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.message_dict.items():
        field = _FIELD_OF.get(key, key)
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _context(request: HttpRequest, matter: Matter, person_form, group_form) -> dict:
    preload_keys([matter])
    people = (
        MatterUserGrant.objects.live()
        .filter(content_object=matter)
        .select_related("user", "permission", "granted_by", "request")
        .prefetch_related("request__approvals__approver")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    groups = (
        MatterGroupGrant.objects.live()
        .filter(content_object=matter)
        .select_related("group", "permission", "granted_by", "request")
        .prefetch_related("request__approvals__approver")
        .annotate(member_count=Count("group__user", distinct=True))
        .order_by("group__name")
    )
    pending = (
        AccessRequest.objects.filter(matter=matter, status=RequestStatus.PENDING)
        .select_related("requester", "filed_by")
        .prefetch_related("approvals__approver")
        .order_by("created_at")
    )
    return {
        "matter": matter,
        "people": people,
        "groups": groups,
        "pending": pending,
        "person_form": person_form,
        "group_form": group_form,
        "highly_confidential": matter.classification >= Classification.HIGHLY_CONFIDENTIAL,
        "revoke_form": RevokeForm(),
    }


def revoke_user_grant(request: HttpRequest, pk, grant_id: int) -> HttpResponse:
    return _revoke(request, pk, grant_id, MatterUserGrant)


def revoke_group_grant(request: HttpRequest, pk, grant_id: int) -> HttpResponse:
    return _revoke(request, pk, grant_id, MatterGroupGrant)


def _revoke(request: HttpRequest, pk, grant_id: int, model: type[MatterUserGrant | MatterGroupGrant]) -> HttpResponse:
    """Permission first (404 for anyone who does not manage the matter, or a grant of another matter), then method."""
    matter = _managed_matter(request, pk, audit_as=AuditAction.GRANT_REVOKE)
    holder_field = "user" if model is MatterUserGrant else "group"
    grant = model.objects.select_related(holder_field, "permission").filter(pk=grant_id, content_object=matter).first()
    if grant is None:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    grant.content_object = matter
    holder = getattr(grant, holder_field)
    form = RevokeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([error for errors in form.errors.values() for error in errors])
        revoke_team_grant(actor=request.user, grant=grant, reason=form.cleaned_data["reason"])
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Access of %(person)s revoked.") % {"person": holder})
    return redirect("access:team", pk=matter.pk)
