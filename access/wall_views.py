"""The ethical wall pages: the security officer's and conflicts partners' list, new wall,
detail and lift; and the memo page of the people a wall names.

Thin views over ``access.wall_services``. The wall pages answer 404 to everyone but the
security officer and conflicts partners (superusers and administrators included), for
GET and POST alike; the memo page answers 404 to anyone the wall does not name. Walls
are shown by matter number and client code, never by client name or matter title.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from access import wall_services
from access.models import EthicalWall, User, WallAcknowledgement, WallKind, WallMember
from access.notifications import level_label
from access.wall_forms import LiftForm, WallForm, conflict_check_by_id
from matters.models import ConflictCheck, PartyRole

PAGE_SIZE = 50

# The list's status filter: its value, label and condition.
STATUSES = {
    "live": (gettext_lazy("In force"), Q(lifted_at__isnull=True)),
    "lifted": (gettext_lazy("Lifted"), Q(lifted_at__isnull=False)),
    "all": (gettext_lazy("All"), Q()),
}

# A service's error keys that the form asks under another name.
_FIELD_OF = {"client": "client_code", "matter": "matter_number"}

# What the list and detail load of a wall's matter and client: never a title or a name.
_SCOPE_COLUMNS = ("matter__id", "matter__number", "matter__client_id", "client__id", "client__code")
# The wall's own encrypted texts, decrypted on the detail page (for the security officer and conflicts partners).
_TEXTS = ("reason", "memo", "lift_reason")


def wall_officer_only(view):
    """404 unless the person erects walls (``wall_services.may_manage_walls``): the pages are not advertised."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not wall_services.may_manage_walls(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _walls(*columns: str):
    """Walls with their scope and people; of the encrypted texts, only ``columns`` (the detail's)."""
    return EthicalWall.objects.select_related("matter", "client", "erected_by", "lifted_by").only(
        "id",
        "kind",
        "matter",
        "client",
        "requires_acknowledgement",
        "erected_by",
        "erected_at",
        "lifted_by",
        "lifted_at",
        "revoked_grants",
        "conflict_check",
        *_SCOPE_COLUMNS,
        *columns,
    )


@wall_officer_only
def wall_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "live")
    if status not in STATUSES:
        status = "live"
    counts = EthicalWall.objects.aggregate(
        live=Count("pk", filter=STATUSES["live"][1]), lifted=Count("pk", filter=STATUSES["lifted"][1])
    )
    counts["all"] = counts["live"] + counts["lifted"]
    tabs = [
        {"query": f"status={value}", "label": label, "count": counts[value], "current": value == status}
        for value, (label, _condition) in STATUSES.items()
    ]
    walls = _walls().filter(STATUSES[status][1]).annotate(member_count=Count("members")).order_by("-erected_at")
    page = Paginator(walls, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "tabs": tabs, "status": status, "query": f"status={status}"}
    return render(request, "access/walls/list.html", context)


@wall_officer_only
def wall_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = WallForm(request.POST)
        check = conflict_check_by_id(request.POST.get("conflict_check", ""))
        if form.is_valid():
            try:
                wall = wall_services.erect_wall(actor=request.user, **form.service_kwargs())
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                revoked = len(wall.revoked_grants)
                messages.success(
                    request,
                    ngettext(
                        "The wall is up: %(count)d grant was revoked.",
                        "The wall is up: %(count)d grants were revoked.",
                        revoked,
                    )
                    % {"count": revoked},
                )
                return redirect("access:wall_detail", pk=wall.pk)
    else:
        check = conflict_check_by_id(request.GET.get("check", ""))
        chosen = request.GET.get("matter", "")
        form = WallForm(initial=initial_from_check(check, matter_id=chosen) if check is not None else None)
    return render(request, "access/walls/new.html", {"form": form, "check": check, "hits": _hit_rows(check)})


def _hit_rows(check: ConflictCheck | None) -> list[dict]:
    """The check's hits as the page shows them: matter number, client code, the role in words."""
    roles = dict(PartyRole.choices)
    return [{**hit, "role_label": roles.get(hit.get("role"), "")} for hit in (check.hits or [])] if check else []


def initial_from_check(check: ConflictCheck, *, matter_id: str = "") -> dict:
    """The new wall's form filled from a conflict check's hits: around the hit's matter the
    officer chose (``matter_id``, one of the hits' only), or the one matter they name, or else
    the one client; for a lateral hire, naming the person (exclusionary)."""
    hits = check.hits or []
    numbers = sorted({hit["matter_number"] for hit in hits if hit.get("matter_number")})
    codes = sorted({hit["client_code"] for hit in hits if hit.get("client_code")})
    initial: dict = {"kind": WallKind.EXCLUSIONARY, "conflict_check": str(check.pk)}
    chosen = next((hit["matter_number"] for hit in hits if matter_id and hit.get("matter_id") == matter_id), None)
    if chosen:
        initial["matter_number"] = chosen
    elif len(numbers) == 1:
        initial["matter_number"] = numbers[0]
    elif len(codes) == 1:
        initial["client_code"] = codes[0]
    elif numbers:
        initial["matter_number"] = numbers[0]
    if check.person_id is not None:
        initial["people"] = [check.person_id]
    return initial


def _add_errors(form: WallForm, exc: ValidationError) -> None:
    """A service's refusal, on the field it names when the form has one, else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.message_dict.items():
        field = _FIELD_OF.get(key, key)
        form.add_error(field if field in form.fields else None, errors)


@wall_officer_only
def wall_detail(request: HttpRequest, pk) -> HttpResponse:
    wall = get_object_or_404(_walls(*_TEXTS), pk=pk)
    if wall_services.screens_officer(request.user, wall):
        raise Http404  # a wall that names the officer is not theirs to read or lift
    return render(request, "access/walls/detail.html", _detail_context(wall, LiftForm()))


@wall_officer_only
def wall_lift(request: HttpRequest, pk) -> HttpResponse:
    wall = get_object_or_404(_walls(*_TEXTS), pk=pk)
    if wall_services.screens_officer(request.user, wall):
        raise Http404  # a wall that names the officer is not theirs to read or lift
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = LiftForm(request.POST)
    if form.is_valid():
        try:
            wall_services.lift_wall(actor=request.user, wall=wall, reason=form.cleaned_data["reason"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The wall was lifted. Its history is kept."))
            return redirect("access:wall_detail", pk=wall.pk)
    return render(request, "access/walls/detail.html", _detail_context(wall, form))


def _detail_context(wall: EthicalWall, lift_form: LiftForm) -> dict:
    acknowledged = dict(WallAcknowledgement.objects.filter(wall=wall).values_list("user_id", "acknowledged_at"))
    members = (
        WallMember.objects.filter(wall=wall)
        .select_related("user", "group")
        .prefetch_related(Prefetch("group__user_set", queryset=User.objects.order_by("last_name", "first_name")))
        .order_by("group__name", "user__last_name", "user__first_name", "user__username")
    )
    people = [
        {"person": member.user, "acknowledged_at": acknowledged.get(member.user_id)}
        for member in members
        if member.user_id is not None
    ]
    groups = [
        {
            "group": member.group,
            "members": [
                {"person": person, "acknowledged_at": acknowledged.get(person.pk)}
                for person in member.group.user_set.all()
            ],
        }
        for member in members
        if member.group_id is not None
    ]
    return {
        "wall": wall,
        "people": people,
        "groups": groups,
        "revoked": _revoked_rows(wall),
        "blocked": wall_services.blocked_team_grants(wall)
        .select_related("group", "permission", "content_object")
        .only("id", "group__name", "permission__codename", "content_object__number", "expires_at")
        .order_by("content_object__number", "group__name"),
        "lift_form": lift_form,
        "memo_url": reverse("access:wall_acknowledge", args=[wall.pk]),
    }


def _revoked_rows(wall: EthicalWall) -> list[dict]:
    """What erecting the wall revoked, with the holders' names (the wall keeps their ids)."""
    entries = wall.revoked_grants or []
    users = User.objects.in_bulk([entry["user_id"] for entry in entries if entry.get("user_id")])
    groups = Group.objects.in_bulk([entry["group_id"] for entry in entries if entry.get("group_id")])
    rows = []
    for entry in entries:
        holder = users.get(entry["user_id"]) if entry.get("user_id") else groups.get(entry.get("group_id"))
        rows.append(
            {**entry, "holder": holder, "is_group": bool(entry.get("group_id")), "level": level_label(entry["level"])}
        )
    return rows


def wall_acknowledge(request: HttpRequest, pk) -> HttpResponse:
    """The memo, for the people the wall names (directly or through a team); 404 for anyone else."""
    wall = EthicalWall.objects.select_related("matter", "client").only(
        "id", "kind", "matter", "client", "memo", "requires_acknowledgement", "lifted_at", *_SCOPE_COLUMNS
    )
    wall = wall.filter(pk=pk).first()
    if wall is None or not wall_services.names(wall, request.user):
        raise Http404
    if request.method == "POST":
        try:
            wall_services.acknowledge_memo(user=request.user, wall=wall)
        except PermissionDenied:
            raise Http404 from None
        messages.success(request, _("Thank you: your acknowledgement of the memo is recorded."))
        return redirect(_after_acknowledging(wall))
    acknowledgement = WallAcknowledgement.objects.filter(wall=wall, user=request.user).first()
    return render(request, "access/walls/memo.html", {"wall": wall, "acknowledgement": acknowledgement})


def _after_acknowledging(wall: EthicalWall) -> str:
    """To the matter the wall lets the person into; home when it keeps them out."""
    if wall.kind == WallKind.INCLUSIONARY and wall.is_live:
        return wall.matter.get_absolute_url() if wall.matter_id else reverse("matters:list")
    return reverse("home")
