"""Reads for HR's dashboard, the people list, a person's record and the export.

Every figure is an aggregate (``values().annotate()``) or one list with its
relations joined, so each page sends the same few queries whether the firm has
ten people or ten thousand, and one course or fifty. Everything is scoped to
:func:`training.assignments.staff` (the people who owe training), optionally
narrowed to one department.

Completion rate: of a group's *current* assignments, the share completed and
still valid (``completed_at`` set and ``good_through`` empty or not yet past).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Department, User
from training import compliance
from training.assignments import staff
from training.models import (
    Assignment,
    Attempt,
    Completion,
    Course,
    DocumentKind,
    DocumentVersion,
    Reminder,
    Signature,
    in_language,
)

# The department filter's value for people whose department is blank.
NO_DEPARTMENT = "none"
NO_DEPARTMENT_LABEL = _("No department")

# How many rows the dashboard's two lists show (the export has them all).
LIST_SHOWN = 50

# Chart geometry, in SVG user units (the picture scales to its box): a label, the bar, the figures.
ROW_HEIGHT = 28
BAR_X = 300
BAR_WIDTH = 300  # 100%
VALUE_X = BAR_X + BAR_WIDTH + 10
CHART_WIDTH = 800
GEOMETRY = {"width": CHART_WIDTH, "bar_x": BAR_X, "bar_width": BAR_WIDTH, "value_x": VALUE_X, "bar_height": 18}


class ItemStatus:
    """Where one assignment stands (the export's and the person page's status column)."""

    COMPLETED = "completed"
    OPEN = "open"
    OVERDUE = "overdue"
    EXPIRED = "expired"

    LABELS = {
        COMPLETED: _("Completed"),
        OPEN: _("Open"),
        OVERDUE: _("Overdue"),
        EXPIRED: _("Expired"),
    }


def item_status(completed_at, good_through: date | None, today: date) -> str:
    past = good_through is not None and good_through < today
    if completed_at is None:
        return ItemStatus.OVERDUE if past else ItemStatus.OPEN
    return ItemStatus.EXPIRED if past else ItemStatus.COMPLETED


def department_label(value: str) -> str:
    label = dict(Department.choices).get(value)
    return str(label if label is not None else NO_DEPARTMENT_LABEL)


def people(department: str = "") -> QuerySet[User]:
    """The staff the pages count: everyone who owes training, or one department's (``NO_DEPARTMENT``: none)."""
    found = staff()
    if department == NO_DEPARTMENT:
        return found.filter(department="")
    if department:
        return found.filter(department=department)
    return found


def _valid(today: date) -> Q:
    return Q(completed_at__isnull=False) & (Q(good_through__isnull=True) | Q(good_through__gte=today))


def _tallied(rows: QuerySet, today: date) -> QuerySet:
    return rows.annotate(
        total=Count("pk"),
        done=Count("pk", filter=_valid(today)),
        open=Count("pk", filter=Q(completed_at__isnull=True)),
        overdue=Count("pk", filter=Q(good_through__lt=today)),
    ).order_by()


def _current_of(who: QuerySet[User]) -> QuerySet[Assignment]:
    return Assignment.objects.current().filter(user__in=who)


# --- Headline and charts ---------------------------------------------------------------------


def _statuses(today: date) -> dict[int, str]:
    """Everyone's statuses, to be read for the people counted. Not ``statuses(ids)``: binding a
    thousand ids into the query cost more than reading the few rows of people not counted (8-15 ms
    at 1,000 people, bench/README.md "Training")."""
    return compliance.statuses(today=today)


@dataclass
class Headline:
    people: int
    compliant: int
    due_soon: int
    lapsed: int


def headline(who: QuerySet[User], today: date) -> Headline:
    """Two queries: the people, and their statuses (``compliance.statuses``; absent is compliant)."""
    ids = list(who.values_list("pk", flat=True))
    found = _statuses(today)
    counts = Counter(found[pk] for pk in ids if pk in found)
    due_soon, lapsed = counts[compliance.Status.DUE_SOON], counts[compliance.Status.LAPSED]
    return Headline(people=len(ids), compliant=len(ids) - due_soon - lapsed, due_soon=due_soon, lapsed=lapsed)


@dataclass
class Bar:
    """One bar of a chart: a department, a course or a document version, and its tally."""

    key: str
    label: str
    total: int
    done: int
    open: int = 0
    overdue: int = 0
    detail: str = ""  # shown after the label (a document's version number)
    position: int = 0

    @property
    def rate(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 0

    @property
    def y(self) -> int:
        return self.position * ROW_HEIGHT

    @property
    def text_y(self) -> int:
        return self.y + 18

    @property
    def bar_y(self) -> int:
        return self.y + 5

    @property
    def fill_width(self) -> int:
        return round(self.done * BAR_WIDTH / self.total) if self.total else 0

    @property
    def level(self) -> str:
        """A CSS class: how good the rate is (colour is never the only cue: the number is shown)."""
        return "high" if self.rate >= 90 else "mid" if self.rate >= 60 else "low"


def _placed(bars: list[Bar]) -> list[Bar]:
    for position, bar in enumerate(bars):
        bar.position = position
    return bars


def chart_height(bars: list[Bar]) -> int:
    return max(1, len(bars)) * ROW_HEIGHT + 4


_TALLIES = ("total", "done", "open", "overdue")

# What one aggregate row is grouped by: a department and an item (a course or a document version).
# Ids only: grouping by the titles too made PostgreSQL sort 21,000 wide rows (3x slower, measured).
_GROUPS = ("user__department", "course_id", "version_id")


def _add(bars: dict[str, Bar], key: str, row: dict, **labels) -> None:
    """Add ``row``'s tallies to the bar ``key`` (made with ``labels`` the first time)."""
    bar = bars.get(key)
    if bar is None:
        bar = bars[key] = Bar(key=key, total=0, done=0, **labels)
    for name in _TALLIES:
        setattr(bar, name, getattr(bar, name) + row[name])


@dataclass
class Charts:
    departments: list[Bar]
    courses: list[Bar]
    documents: list[Bar]  # the current version of each agreement and policy


def charts(who: QuerySet[User], today: date) -> Charts:
    """One aggregate query (department x item: a few hundred rows at most), folded three ways,
    and one each for the titles of the courses and documents it names."""
    rows = list(_tallied(_current_of(who).values(*_GROUPS), today))
    course_ids = {row["course_id"] for row in rows if row["course_id"]}
    version_ids = {row["version_id"] for row in rows if row["version_id"]}
    courses = (
        {
            pk: in_language(title, title_zh)
            for pk, title, title_zh in Course.objects.filter(pk__in=course_ids).values_list("pk", "title", "title_zh")
        }
        if course_ids
        else {}
    )
    versions = (
        {
            pk: (in_language(title, title_zh), str(_("version %(number)s") % {"number": number}))
            for pk, number, title, title_zh in DocumentVersion.objects.filter(pk__in=version_ids).values_list(
                "pk", "number", "document__title", "document__title_zh"
            )
        }
        if version_ids
        else {}
    )
    by_department: dict[str, Bar] = {}
    by_course: dict[str, Bar] = {}
    by_version: dict[str, Bar] = {}
    for row in rows:
        department = row["user__department"]
        _add(by_department, department or NO_DEPARTMENT, row, label=department_label(department))
        if row["course_id"]:
            _add(by_course, str(row["course_id"]), row, label=courses[row["course_id"]])
        else:
            title, number = versions[row["version_id"]]
            _add(by_version, str(row["version_id"]), row, label=title, detail=number)
    return Charts(
        departments=_placed(sorted(by_department.values(), key=lambda bar: (bar.key == NO_DEPARTMENT, bar.label))),
        courses=_placed(sorted(by_course.values(), key=lambda bar: bar.label)),
        documents=_placed(sorted(by_version.values(), key=lambda bar: bar.label)),
    )


# --- The dashboard ---------------------------------------------------------------------------


@dataclass
class Overview:
    headline: Headline
    departments: list[Bar]
    courses: list[Bar]
    documents: list[Bar]
    overdue: list[Assignment]
    unsigned: list[Assignment]
    today: date

    @property
    def overdue_total(self) -> int:
        return sum(bar.overdue for bar in [*self.courses, *self.documents])

    @property
    def unsigned_total(self) -> int:
        return sum(bar.open for bar in self.documents)

    @property
    def assignments_total(self) -> int:
        return sum(bar.total for bar in [*self.courses, *self.documents])

    @property
    def rate(self) -> int:
        done = sum(bar.done for bar in [*self.courses, *self.documents])
        return round(done * 100 / self.assignments_total) if self.assignments_total else 0


def overview(department: str = "", today: date | None = None) -> Overview:
    """Everything the dashboard shows, in seven queries whatever the number of people or courses."""
    today = today or timezone.localdate()
    who = people(department)
    drawn = charts(who, today)
    return Overview(
        headline=headline(who, today),
        departments=drawn.departments,
        courses=drawn.courses,
        documents=drawn.documents,
        overdue=overdue(who, today),
        unsigned=unsigned(who, today),
        today=today,
    )


def overdue(who: QuerySet[User], today: date, limit: int = LIST_SHOWN) -> list[Assignment]:
    """Current assignments past their last day in good standing, longest overdue first:
    open ones past their due date and passes that have expired."""
    rows = list(
        Assignment.objects.overdue(today)
        .filter(user__in=who)
        .select_related("user__manager", "course", "version__document")
        .order_by("good_through", "user__last_name", "user__first_name", "pk")[:limit]
    )
    for row in rows:
        row.days_overdue = (today - row.good_through).days
        # An open item was due on its due date; an expired pass ended the day after its last good day.
        row.overdue_since = row.due_on if row.completed_at is None else row.good_through + timedelta(days=1)
    return rows


def unsigned(who: QuerySet[User], today: date, limit: int = LIST_SHOWN) -> list[Assignment]:
    """Current versions of agreements and policies not yet signed or acknowledged, earliest due first."""
    rows = list(
        _current_of(who)
        .open()
        .filter(version__isnull=False)
        .select_related("user", "version__document")
        .order_by("due_on", "user__last_name", "user__first_name", "pk")[:limit]
    )
    for row in rows:
        row.is_overdue = row.good_through is not None and row.good_through < today
    return rows


# --- The people list -------------------------------------------------------------------------


def statuses_of(who: QuerySet[User], today: date) -> dict[int, str]:
    """Every person's status (compliant included): two queries."""
    ids = list(who.values_list("pk", flat=True))
    found = _statuses(today)
    return {pk: found.get(pk, compliance.Status.COMPLIANT) for pk in ids}


def with_status(who: QuerySet[User], status: str, everyone: dict[int, str]) -> QuerySet[User]:
    """``who`` narrowed to the people of ``status`` (as :func:`statuses_of` found them)."""
    if not status:
        return who
    if status == compliance.Status.COMPLIANT:
        return who.exclude(pk__in=[pk for pk, found in everyone.items() if found != status])
    return who.filter(pk__in=[pk for pk, found in everyone.items() if found == status])


def listed(who: QuerySet[User]) -> QuerySet[User]:
    """The people list's rows, by name, with their managers."""
    return who.select_related("manager").order_by("last_name", "first_name", "username")


def item_counts(people: list[User], today: date) -> dict[int, tuple[int, int]]:
    """``{person id: (open items, overdue items)}`` for one page of people, in one aggregate query
    (counting for the page alone: annotating the whole list made PostgreSQL count for everyone)."""
    rows = (
        Assignment.objects.current()
        .filter(user_id__in=[person.pk for person in people])
        .values("user_id")
        .annotate(
            open=Count("pk", filter=Q(completed_at__isnull=True)),
            overdue=Count("pk", filter=Q(good_through__lt=today)),
        )
        .order_by()
    )
    return {row["user_id"]: (row["open"], row["overdue"]) for row in rows}


# --- A person's record -----------------------------------------------------------------------


@dataclass
class Record:
    person: User
    standing: compliance.Standing
    current: list[Assignment] = field(default_factory=list)
    past: list[Assignment] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)


def record_of(person: User, today: date) -> Record:
    """All of a person's training and signatures: six queries."""
    record = Record(person=person, standing=compliance.standing_of(person, today))
    rows = (
        Assignment.objects.filter(user=person)
        .select_related("course", "version__document", "completion", "signature", "assigned_by")
        .order_by("-current", "due_on", "pk")
    )
    for row in rows:
        row.status = item_status(row.completed_at, row.good_through, today)
        row.status_label = ItemStatus.LABELS[row.status]
        (record.current if row.current else record.past).append(row)
    record.attempts = list(Attempt.objects.filter(user=person).select_related("course").order_by("-started_at"))
    record.completions = list(Completion.objects.filter(user=person).select_related("course").order_by("-completed_at"))
    record.signatures = list(
        Signature.objects.filter(user=person).select_related("version__document").order_by("-signed_at")
    )
    record.reminders = list(
        Reminder.objects.filter(assignment__user=person)
        .select_related("assignment__course", "assignment__version__document")
        .order_by("-sent_at", "-pk")
    )
    return record


# --- The export ------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "user__username",
    "user__first_name",
    "user__last_name",
    "user__department",
    "user__manager__username",
    "user__manager__first_name",
    "user__manager__last_name",
    "course_id",
    "course__title",
    "course__title_zh",
    "course__version",
    "completion__course_version",
    "version__number",
    "version__document__kind",
    "version__document__title",
    "version__document__title_zh",
    "due_on",
    "good_through",
    "assigned_on",
    "completed_on",
)


def export_rows(who: QuerySet[User]) -> QuerySet:
    """Every current assignment of ``who`` as plain values (no model instances: the export streams them)."""
    # Dates in the current time zone, cut by the database (cheaper than parsing timestamps in Python).
    dates = {"assigned_on": TruncDate("assigned_at"), "completed_on": TruncDate("completed_at")}
    return _current_of(who).annotate(**dates).values(*EXPORT_FIELDS).order_by("user__username", "course__title", "pk")


def _name(username: str | None, first: str | None, last: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "")


def export_cells(row: dict, today: date, departments: dict[str, str]) -> list:
    """One export row's cells, in :data:`EXPORT_COLUMNS` order (``departments``: value → label)."""
    if row["course_id"]:
        kind, title, title_zh = "course", row["course__title"], row["course__title_zh"]
        version = row["completion__course_version"] or row["course__version"]
    else:
        kind = "agreement" if row["version__document__kind"] == DocumentKind.AGREEMENT else "policy"
        title, title_zh = row["version__document__title"], row["version__document__title_zh"]
        version = row["version__number"]
    completed_on, good_through = row["completed_on"], row["good_through"]
    return [
        row["user__username"],
        _name(row["user__username"], row["user__first_name"], row["user__last_name"]),
        departments.get(row["user__department"], ""),
        _name(row["user__manager__username"], row["user__manager__first_name"], row["user__manager__last_name"]),
        kind,
        title,
        title_zh,
        version,
        row["assigned_on"].isoformat(),
        row["due_on"].isoformat(),
        item_status(completed_on, good_through, today),
        completed_on.isoformat() if completed_on else "",
        good_through.isoformat() if completed_on and good_through else "",
    ]


EXPORT_COLUMNS = (
    _("username"),
    _("full name"),
    _("department"),
    _("manager"),
    _("item kind"),
    _("item title"),
    _("item title (Chinese)"),
    _("version"),
    _("assigned on"),
    _("due on"),
    _("status"),
    _("completed on"),
    _("valid until"),
)
# Rows fetched from the database at a time, and written to the response in one piece.
EXPORT_CHUNK = 2000


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def write(self, text: str) -> str:
        return text


def export_csv(who: QuerySet[User], today: date) -> Iterator[str]:
    """The CSV file in pieces: a byte-order mark (so spreadsheet programs read UTF-8, Chinese
    included) and the header, then :data:`EXPORT_CHUNK` rows at a time, every cell safe from
    formula injection (``audit.exports.safe_cell``)."""
    from audit.exports import safe_cell

    writer = csv.writer(_Line())
    departments = {value: str(label) for value, label in Department.choices}
    yield "\ufeff" + writer.writerow([str(column) for column in EXPORT_COLUMNS])
    piece = []
    for row in export_rows(who).iterator(chunk_size=EXPORT_CHUNK):
        piece.append(writer.writerow([safe_cell(cell) for cell in export_cells(row, today, departments)]))
        if len(piece) == EXPORT_CHUNK:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)
