"""The security officer's reports: who could access a matter at a time, and a client's transparency report.

For the security officer only: everyone else — administrators and superusers included —
gets 404, and the attempt is recorded. Producing a report is recorded too
(``report.access``, ``report.transparency``), with numbers, codes and dates only.
Matters and clients are named by number and code; the one exception is the printable
transparency report, which is the document a client asked for about itself.
"""

from __future__ import annotations

import csv
import re

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import Role
from access.report_forms import MatterAccessForm, TransparencyForm
from access.reports import TRANSPARENCY_ACTIONS, Accessor, client_accessors, matter_access_at
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from audit.exports import safe_cell
from matters.models import Client


def _require_security_officer(request: HttpRequest, action: AuditAction) -> None:
    """404 unless the user is an eligible security officer (a superuser or administrator is not).

    Asked before anything else, the method included, so that nobody else learns even that much."""
    user = request.user
    eligible = (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and not user.is_departed
        and (not hasattr(user, "is_verified") or user.is_verified())
    )
    if not eligible or not user.has_role(Role.SECURITY_OFFICER):
        # Someone reaching for who saw what is worth knowing about.
        record_event(action, outcome=Outcome.DENIED, reason="not the security officer", detail={"path": request.path})
        raise Http404


def report_matter_access(request: HttpRequest) -> HttpResponse:
    _require_security_officer(request, AuditAction.REPORT_ACCESS)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    form = MatterAccessForm(request.GET or None)
    report = None
    if form.is_bound and form.is_valid():
        matter, at = form.cleaned_data["number"], form.cleaned_data["at"]
        report = matter_access_at(matter, at)
        record_event(
            AuditAction.REPORT_ACCESS,
            target=matter,
            detail={"matter_number": matter.number, "at": at.isoformat()},
        )
    return render(request, "access/reports/matter_access.html", {"form": form, "report": report})


def report_transparency(request: HttpRequest) -> HttpResponse:
    _require_security_officer(request, AuditAction.REPORT_TRANSPARENCY)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    form = TransparencyForm(request.GET or None)
    if not (form.is_bound and form.is_valid()):
        # A CSV or printout is never made from a request the page would refuse: it shows what is wrong.
        return render(request, "access/reports/transparency.html", {"form": form})
    client, start, end = (form.cleaned_data[name] for name in ("client", "date_from", "date_to"))
    kind = request.GET.get("format", "")
    kind = kind if kind in ("csv", "print") else "page"
    accessors = client_accessors(client, start, end)
    record_event(
        AuditAction.REPORT_TRANSPARENCY,
        target=client,
        detail={
            "client_code": client.code,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rows": len(accessors),
            "format": kind,
        },
    )
    context = {
        "form": form,
        "client": client,
        "start": start,
        "end": end,
        "accessors": accessors,
        "actions": [action.label for action in TRANSPARENCY_ACTIONS],
        "query": _query(form),
        "generated_at": timezone.now(),
    }
    if kind == "csv":
        return _csv(client, start, end, accessors)
    if kind == "print":
        # The report the client asked for about itself: the one place the security officer's
        # reports decrypt a client's name. Everywhere else the client is its code.
        context["client_name"] = Client.objects.only("id", "name").get(pk=client.pk).name
        return render(request, "access/reports/transparency_print.html", context)
    return render(request, "access/reports/transparency.html", context)


def _query(form: TransparencyForm) -> str:
    """The report's own parameters, for its CSV and printable links."""
    query = form.data.copy()
    query.pop("format", None)
    return query.urlencode()


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def write(self, text: str) -> str:
        return text


def csv_rows(accessors: list[Accessor]) -> list[list]:
    """The header and one row per person; every cell is made safe when written."""
    header = [
        _("Name"),
        _("Username"),
        _("Roles"),
        _("First access"),
        _("Last access"),
        *(str(action.label) for action in TRANSPARENCY_ACTIONS),
        _("Total"),
        _("Matters"),
    ]
    rows = [header]
    for accessor in accessors:
        rows.append(
            [
                accessor.name,
                accessor.username,
                "; ".join(accessor.roles),
                timezone.localtime(accessor.first).isoformat(timespec="seconds"),
                timezone.localtime(accessor.last).isoformat(timespec="seconds"),
                *accessor.count_list(),
                accessor.total,
                " ".join(accessor.matter_numbers),
            ]
        )
    return rows


def _csv(client: Client, start, end, accessors: list[Accessor]) -> HttpResponse:
    writer = csv.writer(_Line())
    # A byte-order mark, so spreadsheet programs read the file as UTF-8 (Chinese names included);
    # every cell escaped against formula injection (audit.exports.safe_cell).
    body = "\ufeff" + "".join(writer.writerow([safe_cell(cell) for cell in row]) for row in csv_rows(accessors))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    code = re.sub(r"[^A-Za-z0-9_-]", "_", client.code)
    filename = f"custos-transparency-{code}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
