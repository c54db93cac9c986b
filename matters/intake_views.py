"""Intake: opening a matter with its conflict check, the conflicts partner's queue and
decision, and a lateral hire's check. Thin views over ``matters.intake_services``.

These pages name matters by number and client code only: a matter's encrypted columns
(title, description) and any client's or party's name are never loaded here.
Who reaches what — everyone else gets 404, whatever the method:
- the intake form: lawyers and partners;
- the queue: conflicts partners;
- a check: conflicts partners, and (read-only) the person who ran it;
- a lateral hire's page: HR and conflicts partners.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from access.models import User
from matters import intake_services as services
from matters.intake_forms import DecisionForm, IntakeForm, LateralNoteForm, PriorEngagementForm
from matters.models import ConflictCheck, ConflictStatus, PartyRole

# The columns of a check's matter these pages load: never its title or description.
_CHECK_COLUMNS = (
    "id", "status", "hits", "run_at", "run_by", "decided_by", "decided_at", "decision_note", "person",
    "matter__id", "matter__number", "matter__status", "matter__classification", "matter__responsible_partner",
    "matter__client__id", "matter__client__code",
)  # fmt: skip

# Labels of the searched entries an intake writes ("adverse party 2"), in the reader's language.
_SEARCHED_LABELS = {
    "client": gettext_lazy("The client"),
    "client alias": gettext_lazy("The client's alias %(number)s"),
    "adverse party": gettext_lazy("Adverse party %(number)s"),
    "related party": gettext_lazy("Related party %(number)s"),
}


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _checks():
    return ConflictCheck.objects.select_related(
        "matter__client", "run_by", "decided_by", "person", "matter__responsible_partner"
    ).only(
        *_CHECK_COLUMNS,
        *(f"{who}__{column}" for who in ("run_by", "decided_by", "person", "matter__responsible_partner")
          for column in ("id", "username", "first_name", "last_name")),
    )  # fmt: skip


def searched_label(hit: dict) -> str | None:
    """The searched entry of an intake's hit in the reader's language; None for a label of
    someone's own (a lateral hire's entries, as HR typed them)."""
    searched = hit.get("searched", "")
    stem, _space, number = searched.rpartition(" ")
    if number.isdigit() and stem in _SEARCHED_LABELS:
        return str(_SEARCHED_LABELS[stem]) % {"number": number}
    return str(_SEARCHED_LABELS[searched]) if searched in _SEARCHED_LABELS else None


def _rows(hits: list[dict]) -> list[dict]:
    """The hits as the templates show them: numbers, codes, roles — nothing else there is."""
    roles = dict(PartyRole.choices)
    return [
        {
            **hit,
            "searched_display": searched_label(hit) or hit.get("searched", ""),
            # A label of someone's own does not say what was searched: its role is shown too.
            "show_searched_role": searched_label(hit) is None,
            "role_display": roles.get(hit.get("role"), hit.get("role")),
            "searched_role_display": roles.get(hit.get("searched_role"), hit.get("searched_role")),
        }
        for hit in hits
    ]


# --- Intake ---------------------------------------------------------------------------------


def intake_new(request: HttpRequest) -> HttpResponse:
    if not services.may_open_matters(request.user):
        raise Http404
    form = IntakeForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            check = services.open_matter(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                practice_area=data["practice_area"],
                classification=data["classification"],
                responsible_partner=data["responsible_partner"],
                client=data["client"],
                new_client=data["new_client"],
                adverse=data["adverse"],
                related=data["related"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Matter %(number)s is open for intake; its conflict check waits for the conflicts partner.")
                % {"number": check.matter.number},
            )
            return redirect("matters:conflict_detail", pk=check.pk)
    return render(request, "matters/intake/new.html", {"form": form})


# --- The conflicts partner ------------------------------------------------------------------


def conflict_queue(request: HttpRequest) -> HttpResponse:
    if not services.may_decide(request.user):
        raise Http404
    pending = list(_checks().filter(status=ConflictStatus.PENDING).order_by("run_at"))
    decided = list(_checks().exclude(status=ConflictStatus.PENDING).order_by("-decided_at", "-run_at")[:20])
    return render(request, "matters/intake/queue.html", {"pending": pending, "decided": decided})


def conflict_detail(request: HttpRequest, pk) -> HttpResponse:
    check = _checks().filter(pk=pk, matter__isnull=False).first()
    deciding = services.may_decide(request.user)
    ran_it = check is not None and request.user.pk == check.run_by_id
    if check is None or not (deciding or ran_it):
        raise Http404
    if request.method == "POST" and not deciding:
        # The intake lawyer knows the check exists; deciding it is not theirs.
        raise PermissionDenied
    if request.method == "POST" and check.status != ConflictStatus.PENDING:
        messages.error(request, _("This check has been decided already."))
        return redirect("matters:conflict_detail", pk=check.pk)
    form = DecisionForm(request.POST or None) if deciding else None
    if request.method == "POST" and form.is_valid():
        try:
            check = services.decide_check(
                actor=request.user, check=check, decision=form.cleaned_data["decision"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _decided(request, check)
    context = {
        "check": check,
        "hits": _rows(check.hits),
        "form": form if check.status == ConflictStatus.PENDING else None,
        "deciding": deciding,
    }
    return render(request, "matters/intake/detail.html", context)


def _decided(request: HttpRequest, check: ConflictCheck) -> HttpResponse:
    number = check.matter.number
    if check.status == ConflictStatus.CLEARED_WITH_WALL:
        messages.success(request, _("Matter %(number)s is cleared: now erect its wall.") % {"number": number})
        return redirect(reverse("access:wall_new") + f"?check={check.pk}")
    if check.status == ConflictStatus.REJECTED:
        # No notification kind says "your matter was rejected" yet: the intake lawyer sees it on the check.
        text = _("Matter %(number)s was rejected and closed. The intake lawyer sees the decision on the check.")
    else:
        text = _("Matter %(number)s is cleared and open: its intake lawyer and responsible partner manage it.")
    messages.success(request, text % {"number": number})
    return redirect("matters:conflict_detail", pk=check.pk)


# --- Lateral hires --------------------------------------------------------------------------


def lateral_hire(request: HttpRequest, user_id: int) -> HttpResponse:
    if not services.may_record_lateral(request.user):
        raise Http404
    person = get_object_or_404(User, pk=user_id)
    deciding = services.may_decide(request.user)
    form = PriorEngagementForm()
    if request.method == "POST":
        action = request.POST.get("action", "record")
        try:
            if action == "record":
                form = PriorEngagementForm(request.POST)
                if form.is_valid():
                    _announce(request, services.record_prior_engagements(
                        actor=request.user, person=person, entries=form.cleaned_data["entries"]
                    ), deciding)  # fmt: skip
                    return redirect("matters:lateral_hire", user_id=person.pk)
            elif action == "remove":
                engagement = person.prior_engagements.filter(pk=_int(request.POST.get("engagement"))).first()
                if engagement is None:
                    raise Http404
                removed = services.remove_prior_engagement(actor=request.user, engagement=engagement)
                _announce(request, removed, deciding)
                return redirect("matters:lateral_hire", user_id=person.pk)
            elif action == "rerun":
                _announce(request, services.run_lateral_check(actor=request.user, person=person), deciding)
                return redirect("matters:lateral_hire", user_id=person.pk)
            elif action == "decide" and deciding:
                note = LateralNoteForm(request.POST)
                check = services.pending_lateral_check(person)
                if check is None or not note.is_valid():
                    raise ValidationError(_("There is no pending check to mark decided."))
                services.decide_lateral_check(actor=request.user, check=check, note=note.cleaned_data["note"])
                messages.success(request, _("The check is marked decided."))
                return redirect("matters:lateral_hire", user_id=person.pk)
            else:
                raise Http404
        except ValidationError as exc:
            _add_errors(form, exc)
    latest = _checks().filter(person=person).first()
    context = {
        "person": person,
        "form": form,
        "engagements": person.prior_engagements.select_related("recorded_by"),
        "check": latest,
        # HR records what the joiner brings; only the conflicts team reads what the check found,
        # or whether it found anything: otherwise any name typed here would tell HR whether the
        # firm acts for or against it.
        "hits": _rows(latest.hits) if latest and deciding else [],
        "deciding": deciding,
        "note_form": LateralNoteForm(),
    }
    return render(request, "matters/intake/lateral.html", context)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _announce(request: HttpRequest, check: ConflictCheck, deciding: bool) -> None:
    count = len({hit["matter_id"] for hit in check.hits})
    if not deciding:
        messages.success(request, _("Recorded and checked. The conflicts team reviews the result."))
    elif count:
        text = ngettext(
            "The check found %(count)d matter this person must be walled from.",
            "The check found %(count)d matters this person must be walled from.",
            count,
        )
        messages.warning(request, text % {"count": count})
    else:
        messages.success(request, _("The check found no conflict."))
