"""The demonstration firm loaded by ``manage.py seed_demo`` (``make run``).

Personas (the same names the tests use):
Alice, partner running the litigation matters; Bob, associate on her team with
view-only or team access; Charlie, corporate lawyer who sees none of the litigation
matters; Dana, the security officer, and Adam, the administrator, who see no
matter contents at all; Harriet in HR; Victor from an e-discovery vendor with a
time-boxed grant; Erin, a new associate who has not yet set up an authenticator;
Frank, who is leaving the firm (Alice is his manager); and root, a superuser
without any grant.

Access requests wait in every approver's queue (made through the services, so
their audit events and notifications exist): Charlie's for a confidential matter
of Alice's, Bob's for a highly confidential one that Alice approved and Dana has
yet to, and Charlie's for a number no matter has (Adam's to deny). One of Bob's
grants ends within the week, so the daily job's warning, with its renewal link,
is in his notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from access.access_requests import approve_access_request, request_access
from access.expiry import expire_grants
from access.models import (
    AccessRequest,
    Department,
    EmploymentStatus,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Role,
    User,
)
from access.otp import base32_secret, replace_backup_codes
from access.services import add_team_member, ensure_role_groups
from matters.models import (
    Classification,
    Client,
    ClientKind,
    IdentifierType,
    Matter,
    MatterStatus,
    Party,
    PartyRole,
    PracticeArea,
)
from matters.services import add_document

DEMO_PASSWORD = "Custos-demo-2026"  # noqa: S105 — the demo firm's published password, not a secret


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    department: str
    enrolled: bool = True
    staff: bool = False
    superuser: bool = False
    status: str = EmploymentStatus.ACTIVE
    manager: str = ""
    note: str = ""


PERSONAS = [
    Persona("alice", "Alice", "Chen", (Role.PARTNER, Role.LAWYER), Department.LITIGATION,
            note="partner; runs the litigation matters. Approvals queue: approve Charlie's request; Bob's "
                 "highly confidential one waits for Dana. Notifications: new requests"),
    Persona("bob", "Bob", "Li", (Role.LAWYER,), Department.LITIGATION,
            note="associate; view-only on some matters, download through the litigation team. Access requests: "
                 "one waits for the security officer. Notifications: a grant ends this week (renewal link)"),
    Persona("charlie", "Charlie", "Wang", (Role.LAWYER,), Department.CORPORATE,
            note="corporate lawyer; sees the corporate team's matters, none of the litigation ones. Access "
                 "requests: two pending, one for a number no matter has (asking tells nothing). His "
                 "confidentiality training is overdue: confidential matters are locked until he passes the quiz "
                 "(My training)"),
    Persona("dana", "Dana", "Zhou", (Role.SECURITY_OFFICER,), Department.RISK,
            note="security officer; sees no matter contents. Approvals queue: Bob's highly confidential request "
                 "needs her second approval. Audit → Alerts: Bob's emergency access (review it under Access "
                 "overview → Emergency access). Ethical walls; Access reviews: the quarter's campaign"),
    Persona("harriet", "Harriet", "Sun", (Role.HR,), Department.HUMAN_RESOURCES,
            note="HR; runs the training programme (Training programme: dashboard, courses, agreements, CSV); "
                 "notified of what is revoked when Frank leaves and that Charlie's training is overdue"),
    Persona("connie", "Connie", "Huang", (Role.CONFLICTS, Role.PARTNER), Department.RISK,
            note="conflicts partner; Conflict checks: Bob's intake of 2026-LIT-0005 hit 2026-LIT-0001 (clear it, "
                 "with a wall if needed); Ethical walls: Erin is screened from 2026-LIT-0002"),
    Persona("adam", "Adam", "Xu", (Role.ADMINISTRATOR,), Department.IT, staff=True,
            note="administrator; manages users and grants in the admin site, sees no matter contents. Approvals "
                 "queue: every request, Charlie's for a number no matter has among them (deny it)"),
    Persona("victor", "Victor", "Ma", (Role.VENDOR,), Department.EXTERNAL,
            note="e-discovery vendor; one matter, grant expires in 14 days"),
    Persona("erin", "Erin", "Zhao", (Role.LAWYER,), Department.LITIGATION, enrolled=False,
            note="new associate; sets up her authenticator at first sign-in. An ethical wall screens her from "
                 "2026-LIT-0002 (Not found, although her team holds it): its memo is in her notifications"),
    Persona("frank", "Frank", "Liu", (Role.LAWYER,), Department.CORPORATE, status=EmploymentStatus.DEPARTING,
            manager="alice",
            note="leaving the firm in two weeks; on that day his grants and sessions end, Alice and Harriet are told"),
    Persona("root", "Root", "Superuser", (), Department.IT, staff=True, superuser=True,
            note="Django superuser without any grant: sees no matter"),
]  # fmt: skip


@dataclass(frozen=True)
class DemoClient:
    code: str
    name: str
    kind: str
    id_type: str
    # Obviously fake: area code 999999 belongs to no region, so no real person or company has these.
    id_number: str
    contact_name: str
    contact_email: str
    contact_phone: str
    address: str
    retention_until: date
    legal_hold_reason: str = ""


CLIENTS = [
    DemoClient("C-0001", "Huaxin Technology Co., Ltd.", ClientKind.ORGANIZATION, IdentifierType.USCC,
               "91999999MA00000017", "Liu Yang (general counsel)", "legal@huaxin.example.com", "+86 755 5550 0101",
               "Huaxin Tower, 18 Keji Road, Nanshan District, Shenzhen", date(2040, 12, 31)),
    DemoClient("C-0002", "Everbright Pharmaceuticals Group", ClientKind.ORGANIZATION, IdentifierType.USCC,
               "91999999MA00000025", "Gao Min (head of legal)", "legal@everbright.example.com", "+86 21 5550 0202",
               "8 Zhangjiang Hi-Tech Park, Pudong New Area, Shanghai", date(2038, 12, 31),
               legal_hold_reason="Product liability claims (2026-LIT-0003) and the internal investigation "
                                 "(2026-CMP-0001): preserve every record until both are resolved."),
    DemoClient("C-0003", "Zhang Wei", ClientKind.INDIVIDUAL, IdentifierType.ID_CARD,
               "99999919850307002X", "Zhang Wei", "zhang.wei@example.com", "+86 138 0000 0303",
               "Room 1201, 66 Jianguo Road, Chaoyang District, Beijing", date(2036, 12, 31)),
    DemoClient("C-0004", "Northbridge Capital Partners", ClientKind.ORGANIZATION, IdentifierType.USCC,
               "91999999MA00000033", "Emma Clarke (COO)", "operations@northbridge.example.com", "+86 10 5550 0404",
               "Tower B, 1 Financial Street, Xicheng District, Beijing", date(2039, 12, 31)),
    # A former client whose retention period has ended and which is under no legal hold:
    # the security officer can try crypto-shredding it.
    DemoClient("C-0005", "Jade River Trading Co., Ltd.", ClientKind.ORGANIZATION, IdentifierType.USCC,
               "91999999MA00000041", "Wu Jing", "office@jaderiver.example.com", "+86 571 5550 0505",
               "12 Wulin Road, Xiacheng District, Hangzhou", date(2025, 6, 30)),
]  # fmt: skip
CLIENT_DETAILS = ("id_type", "id_number", "contact_name", "contact_email", "contact_phone", "address")
# Resident ID card numbers of the individual parties, as fake as the clients' ones.
PARTY_IDS = {"Li Ming": (IdentifierType.ID_CARD, "999999199005120035")}

# number, client, title, practice area, classification, status, partner, opened, adverse party
MATTERS = [
    ("2026-LIT-0001", "C-0001", "Huaxin v. Orion Semiconductor — patent infringement", PracticeArea.IP,
     Classification.HIGHLY_CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 3, 2), "Orion Semiconductor Ltd."),
    ("2026-LIT-0002", "C-0001", "Trade secret misappropriation by former engineers", PracticeArea.LITIGATION,
     Classification.CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 4, 15), "Li Ming"),
    ("2026-LIT-0003", "C-0002", "Product liability claims — cardiac stent", PracticeArea.LITIGATION,
     Classification.CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 5, 20), "Consumer claimant group"),
    ("2026-LIT-0004", "C-0003", "Zhang Wei — shareholder dispute", PracticeArea.LITIGATION,
     Classification.INTERNAL, MatterStatus.ON_HOLD, "alice", date(2026, 1, 11), "Sunrise Holdings"),
    ("2025-LIT-0017", "C-0002", "Distributor termination arbitration (CIETAC)", PracticeArea.LITIGATION,
     Classification.CONFIDENTIAL, MatterStatus.CLOSED, "alice", date(2025, 6, 3), "Pacific Medical Supply"),
    ("2026-COR-0001", "C-0004", "Acquisition of Lanting Logistics", PracticeArea.CORPORATE,
     Classification.HIGHLY_CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 2, 8), "Lanting shareholders"),
    ("2026-COR-0002", "C-0004", "Fund formation — Northbridge Fund IV", PracticeArea.FINANCE,
     Classification.CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 7, 1), ""),
    ("2026-COR-0003", "C-0001", "Series D financing", PracticeArea.CORPORATE,
     Classification.INTERNAL, MatterStatus.OPEN, "alice", date(2026, 8, 19), ""),
    ("2026-EMP-0001", "C-0002", "Workforce restructuring advice", PracticeArea.EMPLOYMENT,
     Classification.CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 9, 9), ""),
    ("2026-CMP-0001", "C-0002", "Internal investigation — hospital sales practices", PracticeArea.COMPLIANCE,
     Classification.HIGHLY_CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 10, 2), ""),
    ("2026-IP-0002", "C-0001", "Trademark portfolio maintenance", PracticeArea.IP,
     Classification.PUBLIC, MatterStatus.OPEN, "alice", date(2026, 1, 5), ""),
    ("2026-RE-0001", "C-0003", "Residential property purchase", PracticeArea.REAL_ESTATE,
     Classification.INTERNAL, MatterStatus.CLOSED, "alice", date(2026, 2, 14), ""),
    ("2026-TAX-0001", "C-0004", "Cross-border tax structuring review", PracticeArea.TAX,
     Classification.CONFIDENTIAL, MatterStatus.OPEN, "alice", date(2026, 11, 3), ""),
    ("2014-COR-0009", "C-0005", "Sale of the Ningbo warehouse business", PracticeArea.CORPORATE,
     Classification.CONFIDENTIAL, MatterStatus.CLOSED, "alice", date(2014, 3, 10), "Ningbo Harbour Logistics"),
]  # fmt: skip

LITIGATION_TEAM = "Litigation team"
CORPORATE_TEAM = "Corporate team"

# (username or team, matter number, level, days until expiry or None)
GRANTS = [
    *[("alice", number, GrantLevel.MANAGE, None) for number, *_rest in MATTERS],
    ("bob", "2026-LIT-0001", GrantLevel.VIEW, None),
    ("bob", "2026-LIT-0004", GrantLevel.EDIT, None),
    (LITIGATION_TEAM, "2026-LIT-0002", GrantLevel.DOWNLOAD, None),
    (LITIGATION_TEAM, "2026-LIT-0003", GrantLevel.DOWNLOAD, None),
    (LITIGATION_TEAM, "2025-LIT-0017", GrantLevel.VIEW, None),
    (CORPORATE_TEAM, "2026-COR-0002", GrantLevel.EDIT, None),
    (CORPORATE_TEAM, "2026-COR-0003", GrantLevel.EDIT, None),
    ("charlie", "2026-TAX-0001", GrantLevel.DOWNLOAD, None),
    ("frank", "2026-COR-0003", GrantLevel.VIEW, None),
    ("victor", "2026-LIT-0003", GrantLevel.VIEW, 14),
    ("erin", "2026-LIT-0004", GrantLevel.VIEW, None),
]

TEAMS = {LITIGATION_TEAM: ["alice", "bob", "erin"], CORPORATE_TEAM: ["charlie", "frank"]}

# A departing person's last day is this far ahead when the demo is first loaded.
DEPARTURE_IN_DAYS = 14

# A number no matter has: asking for it looks exactly like asking for a confidential matter.
NO_SUCH_NUMBER = "2026-LIT-0099"

# Pending access requests: (requester, matter number, level, days requested, reason, approved already by)
REQUESTS = [
    ("charlie", "2026-LIT-0002", GrantLevel.VIEW, 21,
     "Advising on the employment side of the trade secret case.", ()),
    ("bob", "2026-CMP-0001", GrantLevel.VIEW, 21, "Document review for the internal investigation.", ("alice",)),
    ("charlie", NO_SUCH_NUMBER, GrantLevel.VIEW, 14, "Asked to help with an appeal under this number.", ()),
]  # fmt: skip

# A grant the responsible partner gave that ends within the warning window:
# (holder, matter number, level, last day in days from today, given by)
ENDING_GRANT = ("bob", "2026-TAX-0001", GrantLevel.VIEW, 5, "alice")

DOCUMENTS = [
    ("2026-LIT-0001", "Claim chart — '482 patent", "claim-chart.txt", Classification.HIGHLY_CONFIDENTIAL),
    ("2026-LIT-0001", "Engagement letter", "engagement-letter.pdf", Classification.HIGHLY_CONFIDENTIAL),
    ("2026-LIT-0002", "Forensic imaging report", "forensic-report.txt", Classification.CONFIDENTIAL),
    ("2026-LIT-0003", "Expert witness shortlist", "experts.csv", Classification.CONFIDENTIAL),
    ("2026-LIT-0004", "Shareholder agreement (2019)", "shareholder-agreement.pdf", Classification.INTERNAL),
    ("2026-COR-0003", "Term sheet", "term-sheet.txt", Classification.CONFIDENTIAL),
    ("2014-COR-0009", "Asset purchase agreement (signed)", "asset-purchase-agreement.pdf", Classification.CONFIDENTIAL),
]


def _demo_pdf(title: str) -> bytes:
    """A one-page PDF saying ``title`` (ASCII), small enough to write by hand."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _demo_file(filename: str, title: str) -> SimpleUploadedFile:
    if filename.endswith(".pdf"):
        return SimpleUploadedFile(filename, _demo_pdf(title), content_type="application/pdf")
    body = f"{title}\n\nDemonstration document for the Custos demo firm. Not real client data.\n"
    if filename.endswith(".csv"):
        body = "name,field,rate\nDr. Example One,cardiology,1200\nDr. Example Two,biomechanics,950\n"
    return SimpleUploadedFile(filename, body.encode("utf-8"), content_type="text/plain")


@dataclass
class DemoAccount:
    username: str
    note: str
    secret: str | None
    roles: str


@transaction.atomic
def seed_demo() -> list[DemoAccount]:
    """Create the demo firm; a second run finds everything present and changes nothing."""
    ensure_role_groups()
    users = {persona.username: _persona_user(persona) for persona in PERSONAS}
    for persona in PERSONAS:
        _leaving_details(users[persona.username], persona, users)
    for team, members in TEAMS.items():
        group, _created = Group.objects.get_or_create(name=team)
        group.user_set.add(*(users[name] for name in members))
    clients = {spec.code: _client(spec, security_officer=users["dana"]) for spec in CLIENTS}
    matters = {}
    for number, client, title, area, level, status, partner, opened, adverse in MATTERS:
        matter, _created = Matter.objects.get_or_create(
            number=number,
            defaults={
                "client": clients[client], "title": title, "practice_area": area, "classification": level,
                "status": status, "responsible_partner": users[partner], "opened_on": opened,
                "closed_on": opened + timedelta(days=200) if status == MatterStatus.CLOSED else None,
                "description": "Demonstration matter. Not real client data.",
            },
        )  # fmt: skip
        if clients[client].shredded_at is None:
            _parties(matter, clients[client], adverse)
        matters[number] = matter
    for grantee, number, level, days in GRANTS:
        _grant(users, grantee, matters[number], level, days, granted_by=users["adam"])
    for number, title, filename, level in DOCUMENTS:
        if matters[number].client.shredded_at is not None:
            continue  # destroyed in an earlier demo session: nothing more can be filed for it
        # Titles are encrypted (no query can compare them): a document is known by its title once read.
        if title not in {document.title for document in matters[number].documents.all()}:
            add_document(
                actor=users["alice"], matter=matters[number], title=title, classification=level,
                upload=_demo_file(filename, title),
            )  # fmt: skip
    _requests(users)
    _ending_grant(users, matters)
    # The daily job's warning part (and whatever else is due): the ending grant's holder is told.
    expire_grants()
    # The training programme (training.demo), and its daily job: reminders, Charlie's lapse, the escalation.
    from training.demo import seed_training
    from training.jobs import run_daily

    seed_training(users)
    run_daily()
    # Walls, a conflict check waiting, an emergency access to review, the quarter's access review.
    from matters.demo_walls import seed_walls

    seed_walls(users)
    return [_account(persona, users[persona.username]) for persona in PERSONAS]


def _requests(users: dict[str, User]) -> None:
    """The queues' requests, filed and approved through the services (events, notifications).

    A request the requester has ever made for the number — pending or decided in an
    earlier demo session — is left as it is.
    """
    today = timezone.localdate()
    for requester, number, level, days, reason, approvers in REQUESTS:
        if AccessRequest.objects.filter(requester=users[requester], matter_number=number).exists():
            continue
        filed = request_access(
            actor=users[requester], number=number, level=level, reason=reason, ends_on=today + timedelta(days=days)
        )
        for approver in approvers:
            approve_access_request(actor=users[approver], access_request=filed)


def _ending_grant(users: dict[str, User], matters: dict[str, Matter]) -> None:
    """The partner adds the holder to the matter until a day within the warning window (once it has
    ended and been removed, the next load gives it again)."""
    holder, number, level, days, given_by = ENDING_GRANT
    matter = matters[number]
    if MatterUserGrant.objects.filter(user=users[holder], content_object=matter).exists():
        return
    add_team_member(
        actor=users[given_by], matter=matter, level=level, reason="Cover for the tax review this week",
        user=users[holder], ends_on=timezone.localdate() + timedelta(days=days),
    )  # fmt: skip


def _client(spec: DemoClient, *, security_officer: User) -> Client:
    """The demo client, its blank details filled in (so a demo database from before they existed gets them).

    Encrypted fields cannot be looked up, so the client is found by its code and
    compared in Python; what a demo user changed since (a hold lifted, a
    retention date moved) is left alone, and a shredded client is not touched.
    """
    client, _created = Client.objects.get_or_create(code=spec.code, defaults={"name": spec.name, "kind": spec.kind})
    if client.shredded_at is not None:
        return client
    changed = [name for name in CLIENT_DETAILS if not getattr(client, name)]
    for name in changed:
        setattr(client, name, getattr(spec, name))
    if client.retention_until is None:
        client.retention_until = spec.retention_until
        changed.append("retention_until")
    if spec.legal_hold_reason and client.legal_hold_changed_at is None:
        client.legal_hold, client.legal_hold_reason = True, spec.legal_hold_reason
        client.legal_hold_changed_by, client.legal_hold_changed_at = security_officer, timezone.now()
        changed += ["legal_hold", "legal_hold_reason", "legal_hold_changed_by", "legal_hold_changed_at"]
    if changed:
        # Encrypted fields are sealed on save, and their blind indexes recomputed with them.
        client.save(update_fields=[*changed, "name_index", "id_number_index"])
    return client


def _parties(matter: Matter, client: Client, adverse: str) -> None:
    """The matter's client and adverse party, with identifiers where known; missing ones are added."""
    wanted = [(client.name, PartyRole.CLIENT, client.id_type, client.id_number)]
    if adverse:
        wanted.append((adverse, PartyRole.ADVERSE, *PARTY_IDS.get(adverse, ("", ""))))
    existing = {(party.name, party.role): party for party in matter.parties.all()}
    for name, role, id_type, id_number in wanted:
        party = existing.get((name, role))
        if party is None:
            Party.objects.create(matter=matter, name=name, role=role, id_type=id_type, id_number=id_number)
        elif id_number and not party.id_number:
            party.id_type, party.id_number = id_type, id_number
            party.save(update_fields=["id_type", "id_number", "id_number_index"])


def _persona_user(persona: Persona) -> User:
    user, created = User.objects.get_or_create(
        username=persona.username,
        defaults={
            "first_name": persona.first_name, "last_name": persona.last_name, "department": persona.department,
            "email": f"{persona.username}@demo.custos.invalid", "is_staff": persona.staff,
            "is_superuser": persona.superuser, "employment_status": persona.status,
            "departure_date": timezone.localdate() + timedelta(days=DEPARTURE_IN_DAYS)
            if persona.status == EmploymentStatus.DEPARTING else None,
        },
    )  # fmt: skip
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=[role.value for role in persona.roles]))
        if persona.enrolled:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
            replace_backup_codes(user)
    return user


def _leaving_details(user: User, persona: Persona, users: dict[str, User]) -> None:
    """A departing persona's manager and departure date, given to a demo database from before they
    were required (what a demo user set since is left alone)."""
    changed = []
    if user.employment_status == EmploymentStatus.DEPARTING and user.departure_date is None:
        user.departure_date = timezone.localdate() + timedelta(days=DEPARTURE_IN_DAYS)
        changed.append("departure_date")
    if persona.manager and user.manager_id is None:
        user.manager = users[persona.manager]
        changed.append("manager")
    if changed:
        user.save(update_fields=changed)


def _grant(users, grantee: str, matter: Matter, level: GrantLevel, days: int | None, granted_by: User) -> None:
    permission = Permission.objects.get(content_type__app_label="matters", codename=level.value)
    expires_at = timezone.now() + timedelta(days=days) if days else None
    details = {
        "permission": permission,
        "granted_by": granted_by,
        "reason": "Demo firm set-up",
        "expires_at": expires_at,
    }
    if grantee in users:
        MatterUserGrant.objects.get_or_create(user=users[grantee], content_object=matter, defaults=details)
    else:
        group = Group.objects.get(name=grantee)
        MatterGroupGrant.objects.get_or_create(group=group, content_object=matter, defaults=details)


def _account(persona: Persona, user: User) -> DemoAccount:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return DemoAccount(
        username=user.username,
        note=persona.note,
        secret=base32_secret(device) if device else None,
        roles=", ".join(str(Role(r).label) for r in sorted(user.role_names())) or "superuser",
    )
