"""HR's dashboard, the CSV export, the people list and a person's training record.

The dashboard, the export and the people list are for those who read training
records (HR and the security officer, ``services.may_read_records``); a person's
record also for that person. Everyone else gets 404. The reads are
``training.dashboard``'s: a fixed number of queries per page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from access.models import Department, User
from audit.actions import AuditAction
from audit.events import record_event
from training import dashboard as reads
from training.compliance import Status
from training.services import may_read_records

PEOPLE_PAGE_SIZE = 50


class DepartmentFilter(forms.Form):
    department = forms.ChoiceField(
        label=_("Department"),
        required=False,
        choices=[("", _("All departments")), *Department.choices, (reads.NO_DEPARTMENT, reads.NO_DEPARTMENT_LABEL)],
    )

    def chosen_department(self) -> str:
        """The chosen department, or "" (everyone) when none was chosen or the choice was not understood."""
        return self._chosen("department")

    def _chosen(self, name: str) -> str:
        """A valid filter applies even when another was not understood (and is named on the page)."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return self.cleaned_data.get(name) or ""


class PeopleFilter(DepartmentFilter):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Status.LABELS.items()],
    )

    def chosen_status(self) -> str:
        return self._chosen("status")


def _require_reader(request: HttpRequest) -> None:
    if not may_read_records(request.user):
        raise Http404


def _query(request: HttpRequest) -> str:
    """The filters as given, without the page number (for pagination and the export link)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = DepartmentFilter(request.GET or None)
    department = form.chosen_department()
    overview = reads.overview(department, timezone.localdate())
    context = {
        "form": form,
        "department": department,
        "department_label": reads.department_label(department) if department else "",
        "overview": overview,
        "export_query": urlencode({"department": department}) if department else "",
        "charts": _charts(overview),
        "geometry": reads.GEOMETRY,
        "shown": reads.LIST_SHOWN,
    }
    return render(request, "training/manage/dashboard.html", context)


def _charts(overview: reads.Overview) -> list[dict]:
    """The three charts: by department and by course (courses only), and agreements and policies signed."""
    nothing = _("Nothing is assigned yet.")
    charts = [
        {
            "id": "chart-departments",
            "kind": "department",
            "bars": overview.departments,
            "title": _("Completion by department"),
            "description": _(
                "For each department, the share of current training and signatures completed and still valid."
            ),
            "heading": _("Department"),
            "empty": nothing,
        },
        {
            "id": "chart-courses",
            "kind": "course",
            "bars": overview.courses,
            "title": _("Completion by course"),
            "description": _(
                "For each course, the share of the people assigned it who passed and whose pass is valid."
            ),
            "heading": _("Course"),
            "empty": _("No course is assigned yet."),
        },
        {
            "id": "chart-documents",
            "kind": "version",
            "bars": overview.documents,
            "title": _("Agreements and policies signed"),
            "description": _("For the current version of each agreement and policy, the share of staff who signed it."),
            "heading": _("Agreement or policy"),
            "empty": _("No agreement or policy has been published yet."),
        },
    ]
    for chart in charts:
        chart["height"] = reads.chart_height(chart["bars"])
    return charts


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = DepartmentFilter(request.GET or None)
    if form.is_bound and not form.is_valid():
        # An export never silently drops a filter: the dashboard names what was not understood.
        messages.error(request, gettext_now("Nothing was exported: choose a department from the list."))
        return redirect(f"{reverse('training:dashboard')}?{request.GET.urlencode()}")
    department = form.chosen_department()
    who = reads.people(department)
    rows = reads.export_rows(who).count()
    # Recorded before the first byte leaves: the audit middleware withholds the response if it cannot be.
    record_event(AuditAction.TRAINING_EXPORT, actor=request.user, detail={"rows": rows, "department": department})
    response = StreamingHttpResponse(
        reads.export_csv(who, timezone.localdate()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    suffix = f"-{department}" if department else ""
    response["Content-Disposition"] = f'attachment; filename="custos-training{suffix}-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def people(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = PeopleFilter(request.GET or None)
    department, status = form.chosen_department(), form.chosen_status()
    today = timezone.localdate()
    who = reads.people(department)
    everyone = reads.statuses_of(who, today)
    chosen = reads.with_status(who, status, everyone)
    page = Paginator(reads.listed(chosen), PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = reads.item_counts(page.object_list, today)
    for person in page.object_list:
        person.status = everyone.get(person.pk, Status.COMPLIANT)
        person.status_label = Status.LABELS[person.status]
        person.open_items, person.overdue_items = counts.get(person.pk, (0, 0))
    context = {
        "form": form,
        "page": page,
        "query": _query(request),
        "filtered": bool(department or status),
    }
    return render(request, "training/manage/people.html", context)


@require_GET
def person_record(request: HttpRequest, pk: int) -> HttpResponse:
    own = request.user.is_authenticated and request.user.pk == pk
    person = User.objects.select_related("manager").filter(pk=pk).first()
    # The person, HR and the security officer — and their manager, whom an overdue item is escalated to.
    if not own and not (person is not None and person.manager_id == request.user.pk):
        _require_reader(request)
    if person is None:
        raise Http404
    record = reads.record_of(person, timezone.localdate())
    context = {
        "record": record,
        "person": person,
        "own": own,
        "reader": may_read_records(request.user),
        "department_label": reads.department_label(person.department) if person.department else "",
        "assignment_sections": [
            ("current", _("Current assignments"), "", record.current, _("Nothing is assigned.")),
            (
                "past",
                _("Earlier assignments"),
                _("Rounds of a recurring course and versions of documents that have since been replaced."),
                record.past,
                _("None."),
            ),
        ],
    }
    return render(request, "training/manage/person.html", context)
