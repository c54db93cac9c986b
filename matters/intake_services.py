"""Opening a matter at intake, the conflicts partner's decision on its check, and a lateral
hire's check: one function per business action, each in one transaction and audited.

Audit events name matters by number and client code and count hits; they never carry a
name, a title or a note (notes are free text and may quote a client).

Who may see what while a matter waits: nobody holds a grant on a matter in INTAKE. The
intake lawyer sees it only as its check (number, client code, hits). Clearing it — with or
without a wall — gives the intake lawyer and the responsible partner MANAGE on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.access_requests import expires_at_for, is_eligible, max_days
from access.models import GrantLevel, NotificationKind, Role, User
from access.notifications import notify
from access.services import grant_matter_access
from access.walls import screen_of
from audit.actions import AuditAction
from audit.events import record_event
from matters.conflicts import Searched, check_indexes
from matters.models import (
    Classification,
    Client,
    ClientKind,
    ConflictCheck,
    ConflictStatus,
    IdentifierType,
    Matter,
    MatterStatus,
    Party,
    PartyRole,
    PracticeArea,
    PriorEngagement,
)
from vault.blind import blind_index

INTAKE_ROLES = frozenset({Role.LAWYER.value, Role.PARTNER.value})
# Adverse and related parties an intake names at most (each kind).
MAX_PARTIES = 5

FOUNDING_REASON = "conflict check cleared at intake"


@dataclass(frozen=True)
class PartyEntry:
    """A party as typed at intake (or a prior client of a lateral hire: ``label`` and ``role`` too)."""

    name: str
    id_type: str = IdentifierType.NONE
    id_number: str = ""


@dataclass(frozen=True)
class NewClient:
    name: str
    kind: str = ClientKind.ORGANIZATION
    id_type: str = IdentifierType.NONE
    id_number: str = ""


class Decision:
    """What the conflicts partner may decide on a matter's check."""

    CLEAR = "clear"
    REJECT = "reject"
    WALL = "wall"
    ALL = (CLEAR, REJECT, WALL)


def _has_role(user, roles) -> bool:
    return bool(getattr(user, "is_authenticated", False) and is_eligible(user) and set(roles) & user.role_names())


def may_open_matters(user) -> bool:
    return _has_role(user, INTAKE_ROLES)


def may_decide(user) -> bool:
    return _has_role(user, {Role.CONFLICTS.value})


def may_record_lateral(user) -> bool:
    return _has_role(user, {Role.HR.value, Role.CONFLICTS.value})


# --- Intake ---------------------------------------------------------------------------------


def open_matter(
    *,
    actor: User,
    title: str,
    practice_area: PracticeArea | str,
    classification: Classification | int,
    responsible_partner: User,
    description: str = "",
    client: Client | None = None,
    new_client: NewClient | None = None,
    adverse: Sequence[PartyEntry] = (),
    related: Sequence[PartyEntry] = (),
    number: str | None = None,
) -> ConflictCheck:
    """Open a matter at intake (status INTAKE, nobody granted) and run its conflict check.

    The client is an existing one (``client``) or created (``new_client``). The matter's number
    is assigned (:func:`_save_numbered`) unless ``number`` is given (demo data, imports). Raises
    ``ValidationError`` (per field) for a taken number and the like; nothing is created then.
    """
    if not may_open_matters(actor):
        raise PermissionDenied
    if client is not None and client.pk in screen_of(actor).client_ids:
        # A wall around all the client's matters screens the intake lawyer: the check would list them.
        raise ValidationError(
            {"client_code": _("You cannot open a matter for this client. Ask the conflicts partner.")}
        )
    number = number.strip() if number is not None else None
    _check_intake(number, client, new_client, responsible_partner, adverse, related)
    try:
        with transaction.atomic():
            if client is None:
                client = _create_client(new_client)
            matter = Matter(
                number=number or "",
                title=title.strip(),
                description=description.strip(),
                client=client,
                practice_area=practice_area,
                classification=classification,
                responsible_partner=responsible_partner,
                status=MatterStatus.INTAKE,
            )
            if number:
                matter.full_clean()
                matter.save()
            else:
                matter.full_clean(exclude=["number"])
                _save_numbered(matter)
            for role, entries in ((PartyRole.ADVERSE, adverse), (PartyRole.RELATED, related)):
                for entry in entries:
                    party = Party(matter=matter, role=role, name=entry.name.strip(), id_type=entry.id_type,
                                  id_number=entry.id_number.strip())  # fmt: skip
                    party.full_clean()
                    party.save()
            check = ConflictCheck.objects.create(
                matter=matter,
                run_by=actor,
                hits=check_indexes(_searched(matter, adverse, related), exclude_matter=matter),
            )
            _keep_hit_clients(check)
            detail = {"check_id": str(check.pk), "new_client": new_client is not None}
            record_event(
                AuditAction.MATTER_INTAKE,
                target=matter,
                actor=actor,
                detail={**detail, "adverse": len(adverse), "related": len(related)},
            )
            _record_check(check, actor)
    except IntegrityError:
        # Two intakes of one number at once: the database's uniqueness decides.
        if number:
            raise ValidationError({"number": _number_taken()}) from None
        raise ValidationError(_("Other matters were being opened at the same moment. Submit the form again.")) from None
    return check


# The middle part of an assigned matter number, "2026-LIT-0042", by practice area.
PRACTICE_CODES = {
    PracticeArea.LITIGATION: "LIT",
    PracticeArea.CORPORATE: "COR",
    PracticeArea.IP: "IP",
    PracticeArea.EMPLOYMENT: "EMP",
    PracticeArea.FINANCE: "FIN",
    PracticeArea.REAL_ESTATE: "RE",
    PracticeArea.TAX: "TAX",
    PracticeArea.COMPLIANCE: "CMP",
}


def _save_numbered(matter: Matter) -> None:
    """Save the new matter under the next number of its year and practice area, "2026-LIT-0042".

    Numbers are assigned, never typed: a typed number refused as taken would tell the intake
    lawyer that a matter they may not see exists."""
    area = matter.practice_area
    prefix = f"{timezone.localdate().year}-{PRACTICE_CODES.get(area) or str(area)[:3].upper()}-"

    def number(n: int) -> None:
        matter.number = f"{prefix}{n:04d}"

    _insert_next(matter, number, lambda: _highest_number(prefix))


def _insert_next(row, assign: Callable[[int], None], highest: Callable[[], int], attempts: int = 5) -> None:
    """Insert ``row`` under the next free number (``assign`` puts it on the row). Two intakes at
    once may pick the same: the loser takes the next one, each try in its own savepoint so the
    intake's transaction goes on; after ``attempts`` the IntegrityError is the caller's."""
    tried = 0
    for attempt in range(attempts):
        tried = max(highest(), tried) + 1
        assign(tried)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            if attempt + 1 < attempts:
                continue
            raise
        return


def _highest_number(prefix: str) -> int:
    numbers = Matter.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    return max((int(tail) for number in numbers if (tail := number.removeprefix(prefix)).isdigit()), default=0)


def _keep_hit_clients(check: ConflictCheck) -> None:
    """Relate the check to the clients its hits name. While a lateral hire's check waits for the
    conflicts partner, those clients' matters are screened from the person as a wall would
    screen them (``access.walls.screen_of``): no grant, team or emergency access reaches them."""
    check.hit_clients.set(Client.objects.filter(code__in={hit["client_code"] for hit in check.hits}))


def _number_taken() -> str:
    return _("Another matter already has this number. Choose another.")


def _check_intake(number, client, new_client, responsible_partner, adverse, related) -> None:
    errors = {}
    if number is not None and Matter.objects.filter(number=number).exists():
        errors["number"] = _number_taken()
    if (client is None) == (new_client is None):
        errors["client_code"] = _("Give an existing client's code, or the new client's details — one of the two.")
    elif client is not None and client.shredded_at is not None:
        errors["client_code"] = _("This client's records were destroyed: no matter can be opened for it.")
    elif new_client is not None and not new_client.name.strip():
        errors["new_client_name"] = _("Enter the new client's name.")
    if not _has_role(responsible_partner, {Role.PARTNER.value}):
        errors["responsible_partner"] = _("Choose a partner of the firm.")
    if len(adverse) > MAX_PARTIES or len(related) > MAX_PARTIES:
        errors[NON_FIELD_ERRORS] = _("At most %(count)d adverse and %(count)d related parties.") % {
            "count": MAX_PARTIES
        }
    if errors:
        raise ValidationError(errors)


_CLIENT_CODE = re.compile(r"^C-(\d+)$")


def _create_client(new_client: NewClient) -> Client:
    """The new client, under the next free code "C-0042" (codes are never typed at intake)."""
    client = Client(
        name=new_client.name.strip(),
        kind=new_client.kind,
        id_type=new_client.id_type,
        id_number=new_client.id_number.strip(),
    )
    client.full_clean(exclude=["code"])

    def code(n: int) -> None:
        client.code = f"C-{n:04d}"

    _insert_next(client, code, _highest_client_code)
    return client


def _highest_client_code() -> int:
    codes = Client.objects.filter(code__startswith="C-").values_list("code", flat=True)
    return max((int(m.group(1)) for code in codes if (m := _CLIENT_CODE.match(code))), default=0)


def _searched(matter: Matter, adverse: Sequence[PartyEntry], related: Sequence[PartyEntry]) -> list[Searched]:
    """What a matter's check searches: its client (by the indexes it has, and its aliases')
    and every adverse and related party named at intake."""
    client = matter.client
    entries = [Searched("client", PartyRole.CLIENT, client.name_index, client.id_number_index)]
    entries += [
        Searched(f"client alias {n}", PartyRole.CLIENT, index)
        for n, index in enumerate(client.aliases.values_list("name_index", flat=True), start=1)
    ]
    for role, label, parties in (
        (PartyRole.ADVERSE, "adverse party", adverse),
        (PartyRole.RELATED, "related party", related),
    ):
        entries += [Searched.of(f"{label} {n}", role, p.name, p.id_number) for n, p in enumerate(parties, start=1)]
    return entries


def _record_check(check: ConflictCheck, actor: User, **facts) -> None:
    record_event(
        AuditAction.CONFLICT_CHECK,
        target=check.matter,
        actor=actor,
        detail={"check_id": str(check.pk), "hits": len(check.hits), **facts},
    )


# --- The conflicts partner's decision -------------------------------------------------------


def decide_check(*, actor: User, check: ConflictCheck, decision: str, note: str = "") -> ConflictCheck:
    """Clear, reject, or clear with a wall (the wall itself is erected next, on the wall page).

    Clearing opens the matter and gives the intake lawyer and the responsible partner
    MANAGE; rejecting closes it today. A conflicts partner does not decide a matter they
    opened or are responsible for (nobody grants access to themselves).
    """
    if not may_decide(actor):
        raise PermissionDenied
    if decision not in Decision.ALL:
        raise ValidationError({"decision": _("Choose to clear, reject, or clear with a wall.")})
    with transaction.atomic():
        check = ConflictCheck.objects.select_for_update(of=("self",)).select_related("matter__client").get(pk=check.pk)
        matter = check.matter
        if matter is None:
            raise ValidationError(_("A lateral hire's check is decided on the lateral hire's page."))
        if check.status != ConflictStatus.PENDING:
            raise ValidationError(_("This check has been decided already."))
        if actor.pk in (check.run_by_id, matter.responsible_partner_id):
            raise ValidationError(
                _("You opened this matter or are its responsible partner: another conflicts partner decides it.")
            )
        check.status = {
            Decision.CLEAR: ConflictStatus.CLEARED,
            Decision.WALL: ConflictStatus.CLEARED_WITH_WALL,
            Decision.REJECT: ConflictStatus.REJECTED,
        }[decision]
        check.decided_by, check.decided_at, check.decision_note = actor, timezone.now(), note.strip()[:500]
        check.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if decision == Decision.REJECT:
            matter.status, matter.closed_on = MatterStatus.CLOSED, timezone.localdate()
            matter.save(update_fields=["status", "closed_on"])
        elif decision == Decision.CLEAR:
            matter.status = MatterStatus.OPEN
            matter.save(update_fields=["status"])
        # Cleared with a wall: the matter stays awaiting clearance until the wall stands
        # (open_walled_matter, called as the wall is erected), so nobody works on it unwalled.
        record_event(
            AuditAction.CONFLICT_DECIDE,
            target=matter,
            actor=actor,
            detail={"check_id": str(check.pk), "decision": str(check.status), "hits": len(check.hits)},
        )
        if decision == Decision.CLEAR:
            _found_team(actor, check)
    return check


def open_walled_matter(check: ConflictCheck) -> None:
    """The wall a check was cleared with stands: the matter opens and its founding grants are made
    (in the wall's transaction; ``access.wall_services.erect_wall`` calls this)."""
    matter = check.matter
    if matter is None or check.status != ConflictStatus.CLEARED_WITH_WALL or matter.status != MatterStatus.INTAKE:
        return
    matter.status = MatterStatus.OPEN
    matter.save(update_fields=["status"])
    _found_team(check.decided_by, check)


def _found_team(actor: User, check: ConflictCheck) -> None:
    """MANAGE for the intake lawyer and the responsible partner, who are told.

    On a HIGHLY CONFIDENTIAL matter a grant is otherwise given only through a request with two
    approvals (access.services.check_grant); these founding grants come from the clearance
    itself, so they are made as the system and last no longer than such a grant may.
    """
    matter = check.matter
    highly = matter.classification >= Classification.HIGHLY_CONFIDENTIAL
    expires_at = (
        expires_at_for(timezone.localdate() + timedelta(days=max_days(matter.classification))) if highly else None
    )
    people = {
        p.pk: p
        for p in (check.run_by, matter.responsible_partner)
        # Whom a wall — or their own pending lateral-hire check — screens from the matter gets
        # nothing (the conflicts partner walled them, or has yet to decide).
        if p is not None and is_eligible(p) and not screen_of(p).covers(matter)
    }
    for person in people.values():
        grant_matter_access(
            actor=None if highly else actor, matter=matter, level=GrantLevel.MANAGE, reason=FOUNDING_REASON,
            user=person, expires_at=expires_at,
        )  # fmt: skip
    notify(
        people.values(),
        NotificationKind.GRANT_ADDED,
        {"approver": str(actor), "number": matter.number, "level": GrantLevel.MANAGE.value},
        matter.get_absolute_url(),
    )


# --- Lateral hires --------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorEntry:
    label: str
    role: str
    name: str = ""
    id_number: str = ""


def record_prior_engagements(*, actor: User, person: User, entries: Sequence[PriorEntry]) -> ConflictCheck:
    """Keep a lateral hire's prior clients and adversaries — as blind indexes only — and run
    their check again over everything recorded for them."""
    if not may_record_lateral(actor):
        raise PermissionDenied
    rows = []
    for entry in entries:
        row = PriorEngagement(
            person=person,
            label=entry.label.strip(),
            role=entry.role,
            name_index=blind_index(entry.name, "name"),
            id_number_index=blind_index(entry.id_number, "identifier"),
            recorded_by=actor,
        )
        if not (row.name_index or row.id_number_index):
            raise ValidationError(_("Give a name or an identifier for “%(label)s”.") % {"label": row.label})
        row.full_clean(exclude=["person", "recorded_by"])
        rows.append(row)
    with transaction.atomic():
        for row in rows:
            row.save()
        return run_lateral_check(actor=actor, person=person)


def remove_prior_engagement(*, actor: User, engagement: PriorEngagement) -> ConflictCheck:
    """Remove an entry recorded by mistake, and check again without it."""
    if not may_record_lateral(actor):
        raise PermissionDenied
    with transaction.atomic():
        person = engagement.person
        engagement.delete()
        return run_lateral_check(actor=actor, person=person)


def pending_lateral_check(person: User) -> ConflictCheck | None:
    return ConflictCheck.objects.filter(person=person, status=ConflictStatus.PENDING).first()


@transaction.atomic
def run_lateral_check(*, actor: User, person: User) -> ConflictCheck:
    """The same check over all of ``person``'s prior engagements.

    A person has at most one pending check: a new run replaces its hits. A run that hits
    nothing is cleared at once (there is nothing to decide); one with hits waits for a
    conflicts partner, who proposes walls from it and then marks it decided.
    """
    if not may_record_lateral(actor):
        raise PermissionDenied
    # The person's row is the lock: two runs at once must not each start a pending check.
    User.objects.select_for_update().filter(pk=person.pk).first()
    engagements = list(person.prior_engagements.all())
    entries = [Searched(e.label, e.role, e.name_index, e.id_number_index) for e in engagements]
    hits = check_indexes(entries)
    check = ConflictCheck.objects.select_for_update().filter(person=person, status=ConflictStatus.PENDING).first()
    if check is None:
        check = ConflictCheck(person=person)
    check.hits, check.run_by, check.run_at = hits, actor, timezone.now()
    if not hits:
        check.status, check.decided_at = ConflictStatus.CLEARED, check.run_at
    check.save()
    _keep_hit_clients(check)
    record_event(
        AuditAction.CONFLICT_CHECK,
        actor=actor,
        detail={
            "check_id": str(check.pk),
            "person_id": person.pk,
            "person": person.get_username(),
            "entries": len(engagements),
            "hits": len(hits),
        },
    )
    return check


def decide_lateral_check(*, actor: User, check: ConflictCheck, note: str = "") -> ConflictCheck:
    """The conflicts partner marks a lateral hire's check dealt with: cleared with a wall when
    walls were erected from it, cleared otherwise."""
    if not may_decide(actor):
        raise PermissionDenied
    with transaction.atomic():
        check = ConflictCheck.objects.select_for_update().get(pk=check.pk)
        if check.person_id is None or check.status != ConflictStatus.PENDING:
            raise ValidationError(_("This check has been decided already."))
        walled = check.walls.exists()
        check.status = ConflictStatus.CLEARED_WITH_WALL if walled else ConflictStatus.CLEARED
        check.decided_by, check.decided_at, check.decision_note = actor, timezone.now(), note.strip()[:500]
        check.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record_event(
            AuditAction.CONFLICT_DECIDE,
            actor=actor,
            detail={
                "check_id": str(check.pk),
                "person_id": check.person_id,
                "decision": str(check.status),
                "hits": len(check.hits),
            },
        )
    return check
