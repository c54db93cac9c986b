"""Emergency access: the form lawyers and partners open a matter with, and the security
officer's review of every use.

The form is for lawyers and partners, the review pages for the security officer;
everyone else gets 404 (and the attempt on a review page is recorded). The review
pages name matters by number and client code and never load their encrypted
columns; they show the person's reason, which the security officer is there to judge.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from access.break_glass import (
    is_live,
    is_reviewer,
    may_break_glass,
    open_in_emergency,
    review_break_glass,
)
from access.break_glass_forms import BreakGlassForm, BreakGlassReviewForm
from access.models import BreakGlassAccess, BreakGlassStatus
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from vault.fields import preload_keys

PAGE_SIZE = 25

# What the review pages load of the matter: its number and client code, never its title.
_COLUMNS = (
    "id",
    "reason",
    "started_at",
    "expires_at",
    "status",
    "reviewed_at",
    "review_note",
    "user__id",
    "user__username",
    "user__first_name",
    "user__last_name",
    "reviewed_by__id",
    "reviewed_by__username",
    "reviewed_by__first_name",
    "reviewed_by__last_name",
    "matter__id",
    "matter__number",
    "matter__classification",
    "matter__client__id",
    "matter__client__code",
)


def break_glass_new(request: HttpRequest) -> HttpResponse:
    if not may_break_glass(request.user):
        raise Http404
    if request.method == "POST":
        form = BreakGlassForm(request.POST)
        if form.is_valid():
            try:
                access = open_in_emergency(
                    user=request.user, number=form.cleaned_data["number"], reason=form.cleaned_data["reason"]
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.warning(
                    request,
                    _(
                        "Emergency access to matter %(number)s until %(until)s. "
                        "The security officer has been alerted and will review it."
                    )
                    % {
                        "number": access.matter.number,
                        "until": date_format(timezone.localtime(access.expires_at), "DATETIME_FORMAT"),
                    },
                )
                return redirect(access.matter.get_absolute_url())
    else:
        form = BreakGlassForm()
    return render(request, "access/emergency/new.html", {"form": form, "hours": settings.BREAK_GLASS_HOURS})


def _add_errors(form: BreakGlassForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        form.add_error(key if key in form.fields else None, errors)


def _require_reviewer(request: HttpRequest) -> None:
    """404 unless the user is the security officer; the attempt is recorded."""
    if not is_reviewer(request.user):
        record_event(
            AuditAction.BREAK_GLASS_REVIEW,
            outcome=Outcome.DENIED,
            reason="not a security officer",
            detail={"path": request.path},
        )
        raise Http404


def _reviewable() -> QuerySet[BreakGlassAccess]:
    return BreakGlassAccess.objects.select_related("user", "reviewed_by", "matter__client").only(*_COLUMNS)


def break_glass_reviews(request: HttpRequest) -> HttpResponse:
    _require_reviewer(request)
    pending = list(_reviewable().filter(status=BreakGlassStatus.PENDING_REVIEW).order_by("started_at", "pk"))
    past = _reviewable().exclude(status=BreakGlassStatus.PENDING_REVIEW).order_by("-started_at", "pk")
    page = Paginator(past, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [*pending, *page.object_list]
    preload_keys(shown)  # reasons and notes are encrypted under each client's key: one query
    now = timezone.now()
    for access in shown:
        access.ended = access.expires_at <= now
    # The people's reasons were shown: recorded, as every look at who accessed what is.
    record_event(
        AuditAction.ACCESS_OVERVIEW,
        detail={"listing": "emergency access", "pending": len(pending), "page": page.number},
    )
    return render(request, "access/emergency/reviews.html", {"pending": pending, "page": page})


def break_glass_review(request: HttpRequest, pk) -> HttpResponse:
    _require_reviewer(request)
    access = _reviewable().filter(pk=pk).first()
    if access is None:
        raise Http404
    if request.method == "POST":
        form = BreakGlassReviewForm(request.POST)
        if form.is_valid():
            try:
                review_break_glass(actor=request.user, access=access, **form.cleaned_data)
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Your review of %(person)s's emergency access to matter %(number)s is recorded.")
                    % {"person": access.user, "number": access.matter.number},
                )
                return redirect("access:break_glass_reviews")
    else:
        form = BreakGlassReviewForm()
    record_event(AuditAction.ACCESS_OVERVIEW, target=access.matter, detail={"break_glass_id": str(access.pk)})
    context = {
        "access": access,
        "form": form,
        "live": is_live(access),
        "own": access.user_id == request.user.pk,
    }
    return render(request, "access/emergency/review.html", context)
