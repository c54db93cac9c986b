"""Who holds what, and why: the oversight pages of administrators and the security officer.

For any person, every grant they hold (directly and through teams) with the
request it came from and who approved it when; for any matter, everyone who
holds access and how. These viewers do not read matter contents: matters are
named by number and client code, and their encrypted columns are never even
loaded. Everyone else — superusers included — gets 404.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from access.models import (
    AccessRequest,
    EmploymentStatus,
    MatterGroupGrant,
    MatterUserGrant,
    RequestStatus,
    Role,
    User,
)
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from matters.models import Matter

PAGE_SIZE = 50
REQUESTS_SHOWN = 50

_OVERSEERS = frozenset({Role.ADMINISTRATOR.value, Role.SECURITY_OFFICER.value})

# The matter's columns these pages may load: never its title, description or notes,
# nor its client's name (encrypted; see vault.fields).
_MATTER_COLUMNS = ("id", "number", "classification", "status", "client__id", "client__code")


def _require_overseer(request: HttpRequest) -> None:
    """404 unless the user is an eligible administrator or security officer (a superuser is neither).

    A refusal is recorded: someone looking for who holds what is worth knowing about.
    """
    user = request.user
    eligible = getattr(user, "is_authenticated", False) and user.is_active and not user.is_departed
    if not eligible or not (_OVERSEERS & user.role_names()):
        record_event(
            AuditAction.ACCESS_OVERVIEW,
            outcome=Outcome.DENIED,
            reason="not an administrator or security officer",
            detail={"path": request.path},
        )
        raise Http404


def people(request: HttpRequest) -> HttpResponse:
    _require_overseer(request)
    term = request.GET.get("q", "").strip()[:100]
    found = User.objects.select_related("manager").order_by("last_name", "first_name", "username")
    if term:
        found = found.filter(Q(username__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term))
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    departing = User.objects.filter(employment_status=EmploymentStatus.DEPARTING).order_by("departure_date", "username")
    query = request.GET.copy()
    query.pop("page", None)
    context = {"term": term, "page": page, "query": query.urlencode(), "departing": departing}
    return render(request, "access/oversight/people.html", context)


def _grant_details(grants: QuerySet) -> QuerySet:
    """What a grant's "why" needs: who granted it, and the request and approvals it came from."""
    return grants.select_related(
        "permission", "granted_by", "request__requester", "request__filed_by"
    ).prefetch_related("request__approvals__approver")


def _matters_by_number(grants: QuerySet) -> QuerySet:
    """The grants with their matter's number and client code, and none of the matter's other columns."""
    return grants.select_related("content_object__client").only(
        *(f"content_object__{column}" for column in _MATTER_COLUMNS),
        *(field.name for field in grants.model._meta.concrete_fields),
    )


def person_access(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_overseer(request)
    person = get_object_or_404(User.objects.select_related("manager"), pk=user_id)
    record_event(AuditAction.ACCESS_OVERVIEW, detail={"person_id": person.pk, "person": person.get_username()})
    direct = _matters_by_number(_grant_details(MatterUserGrant.objects.live().filter(user=person)))
    via_teams = _matters_by_number(
        _grant_details(MatterGroupGrant.objects.live().filter(group__user=person).select_related("group"))
    )
    requests = (
        AccessRequest.objects.filter(requester=person)
        .select_related("decided_by", "filed_by", "matter__client")
        .only(
            *(f"matter__{column}" for column in _MATTER_COLUMNS),
            *(field.name for field in AccessRequest._meta.concrete_fields),
            "decided_by",
            "filed_by",
        )
        .prefetch_related("approvals__approver")
        .order_by("-created_at")[:REQUESTS_SHOWN]
    )
    context = {
        "person": person,
        "roles": [Role(name).label for name in sorted(person.role_names())],
        "teams": person.groups.exclude(name__in=Role.values).order_by("name"),
        "direct": direct.order_by("content_object__number"),
        "via_teams": via_teams.order_by("content_object__number", "group__name"),
        "requests": requests,
        "requests_shown": REQUESTS_SHOWN,
    }
    return render(request, "access/oversight/person.html", context)


def matter_access(request: HttpRequest, pk) -> HttpResponse:
    _require_overseer(request)
    matter = get_object_or_404(
        Matter.objects.select_related("client", "responsible_partner").only(*_MATTER_COLUMNS, "responsible_partner"),
        pk=pk,
    )
    record_event(AuditAction.ACCESS_OVERVIEW, target=matter)
    members = Prefetch("group__user_set", queryset=User.objects.order_by("last_name", "first_name", "username"))
    direct = _grant_details(MatterUserGrant.objects.live().filter(content_object=matter).select_related("user"))
    via_teams = _grant_details(MatterGroupGrant.objects.live().filter(content_object=matter).select_related("group"))
    pending = (
        AccessRequest.objects.filter(matter=matter, status=RequestStatus.PENDING)
        .select_related("requester", "filed_by")
        .prefetch_related("approvals__approver")
        .order_by("created_at")
    )
    context = {
        "matter": matter,
        "direct": direct.order_by("user__last_name", "user__first_name", "user__username"),
        "via_teams": via_teams.prefetch_related(members).order_by("group__name"),
        "pending": pending,
    }
    return render(request, "access/oversight/matter.html", context)
