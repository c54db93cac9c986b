"""The permission matrix: every URL that takes a parameter, for everyone who must not see the matter.

The test walks the project's URL patterns (``get_resolver()``, admin site included)
and requires an entry in ``REGISTRY`` for every pattern with a path parameter. A
pattern added without an entry fails ``test_matrix[...]`` with its name, so a new
URL cannot slip past the matrix.

A pattern is keyed by its qualified name (``"matters:detail"``) or, when it has
none, by its full route string. Each entry says how to build the parameters from
the objects in ``World`` and what is expected:

- ``NOT_FOUND`` — an app URL naming a matter or document: 404 for outsider Charlie,
  security officer Dana, administrator Adam and superuser Root (all signed in with
  both factors, none holding a grant), and the success status for Alice, so the 404
  is about permission rather than a broken URL.
- ``ADMIN_METADATA`` — an admin URL naming a matter or a grant: each of them gets a
  refusal (302/403/404) or a page without the matter's title, description, client
  name, party names or document titles. Root's status is pinned so the page
  really rendered when it is checked.
- ``NOT_CLIENT_DATA`` — an admin URL about something that is not client information
  (a person, a group, a sign-in attempt…), with the reason. The same content check
  runs on it anyway: a page about a person must not show their matters' titles.
- ``REVIEWER_ONLY`` — a page of the audit review (who did what to which matter): 404
  for everyone outside the reviewer group — Alice and Bob on the matter, outsider
  Charlie, administrator Adam, superuser Root — and the success status for security
  officer Dana, whose page must show none of the matter's contents either.
- ``KEY_ADMINS_ONLY`` — a client keys page or action (legal hold, shredding, key
  rotation): 404 for everyone but the security officer and administrators — Alice and
  Bob on the matter, outsider Charlie, superuser Root — and the success status for
  security officer Dana and administrator Adam (405 for an action, which takes POST
  only), whose pages show the client by code, never by name.
- ``NOT_FOUND`` also covers the matter's team page and its revocations (404 for the
  outsiders above; Alice, who manages the matter, gets the page, and 405 for a GET of a
  revocation, which takes POST only: permission is decided before the method).
- ``APPROVERS_ONLY`` — approving or denying an access request (Charlie's, for the
  CONFIDENTIAL matter): 404 for everyone who may not decide it — Bob on the matter,
  requester Charlie himself, security officer Dana (not an approver below HIGHLY
  CONFIDENTIAL), superuser Root — and 405 (a GET of a POST-only action) for
  responsible partner Alice and administrator Adam.
- ``REQUESTER_ONLY`` — withdrawing a request: 405 for requester Charlie, 404 for
  everyone else — Alice, Bob, Dana, Adam, Root.
- ``OVERSEERS_ONLY`` — who holds which access and why (a person's grants, a matter's
  holders): the success status for security officer Dana and administrator Adam, whose
  pages name matters by number and client code and must show none of the matter's
  contents; 404 for Alice, Bob, Charlie and Root.
- ``HR_ONLY`` — HR's training pages (courses, questions, attachments, assignments,
  agreement versions): 404 for everyone but HR's Harriet — lawyers, the security
  officer, the administrator and the superuser — and the success status for her
  (405 for a POST-only action).
- ``OWNER_OR_RECORD_READERS`` — a person's quiz attempt, certificate and training
  record (Bob's): Bob, HR and the security officer get them; Alice, Charlie, Adam and
  Root get 404.
- ``FIRM_CONTENT`` — a published course, its quiz and handout, and the current
  agreement: the firm's own material, which every member of staff reads (with the
  reason). The content check runs on each page anyway.
- Issue 7: ``WALL_OFFICERS_ONLY`` (a wall's page and lifting: the security officer and the
  conflicts partner), ``NAMED_BY_WALL`` (a wall's memo: only the people it names),
  ``SECURITY_OFFICER_ONLY`` (reviewing emergency access, an access review's report and closing),
  ``ITEM_REVIEWER_ONLY`` (deciding a grant under review: its partner), ``CONFLICTS_ONLY`` (an intake
  check: the conflicts partner, and read-only the lawyer who ran it), ``HR_AND_CONFLICTS`` (a lateral
  hire's prior engagements). And two more outsiders on every matter URL: Walter, who holds a grant
  but an ethical wall screens him, and Bridget, whose emergency access has ended.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from access.access_requests import request_access
from access.models import (
    AccessRequest,
    AccessReviewCampaign,
    AccessReviewItem,
    BreakGlassAccess,
    EthicalWall,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Role,
    User,
    UserSession,
    WallKind,
    WallMember,
)
from access.reviews import start_campaign
from audit.actions import AuditAction
from audit.events import record_event
from audit.models import Alert, AuditEvent, AuditVerification, Rule, Severity
from audit.verification import verify_audit_trail
from jobs.models import JobRun
from matters.models import Client, ClientShredding, ConflictCheck, Document, Matter, MatterStatus, Party, PartyRole
from tests.conftest import _persona, signed_in
from tests.factories import (
    MatterFactory,
    PartyFactory,
    answer_key,
    grant,
    make_course,
    make_document,
    make_policy_document,
)
from training import services
from training.models import (
    AssignmentRule,
    Attempt,
    Completion,
    Course,
    CourseAttachment,
    DocumentVersion,
    PolicyDocument,
    Question,
    RuleTarget,
)

NOT_FOUND = "404"
ADMIN_METADATA = "admin-metadata"
NOT_CLIENT_DATA = "not-client-data"
REVIEWER_ONLY = "reviewer-only"
KEY_ADMINS_ONLY = "key-admins-only"
APPROVERS_ONLY = "approvers-only"
REQUESTER_ONLY = "requester-only"
OVERSEERS_ONLY = "overseers-only"
HR_ONLY = "hr-only"
WALL_OFFICERS_ONLY = "wall-officers-only"
NAMED_BY_WALL = "named-by-wall"
SECURITY_OFFICER_ONLY = "security-officer-only"
ITEM_REVIEWER_ONLY = "item-reviewer-only"
CONFLICTS_ONLY = "conflicts-only"
HR_AND_CONFLICTS = "hr-and-conflicts"
OWNER_OR_RECORD_READERS = "owner-or-record-readers"
FIRM_CONTENT = "firm-content"

# Walter holds a grant on the matter but an ethical wall screens him; Bridget's emergency access ended.
OUTSIDERS = ("charlie", "dana", "adam", "root", "walter", "bridget")
ADMIN_VISITORS = ("charlie", "dana", "adam", "root")
NOT_REVIEWERS = ("alice", "bob", "charlie", "adam", "root")
KEY_ADMINS = ("dana", "adam")
NOT_KEY_ADMINS = ("alice", "bob", "charlie", "root")
APPROVERS = ("alice", "adam")
NOT_APPROVERS = ("bob", "charlie", "dana", "root")
REQUESTERS = ("charlie",)
NOT_REQUESTERS = ("alice", "bob", "dana", "adam", "root")
OVERSEERS = ("dana", "adam")
NOT_OVERSEERS = ("alice", "bob", "charlie", "root")
HR = ("harriet",)
NOT_HR = ("alice", "bob", "charlie", "dana", "adam", "root")
# Bob's own training record (his attempt, certificate, record): him, HR and the security officer.
RECORD_OWNER_AND_READERS = ("bob", "harriet", "dana")
NOT_RECORD_READERS = ("alice", "charlie", "adam", "root")
STAFF = ("alice", "bob", "charlie", "dana", "adam", "root", "harriet")
NOT_WALL_OFFICERS = ("alice", "bob", "charlie", "adam", "root", "harriet")
NOT_SECURITY_OFFICER = ("alice", "bob", "charlie", "adam", "root", "harriet", "connie")
# Who gets what, for the kinds that name everyone: (people, status) pairs, None standing for the
# entry's success status. Every page is checked for the matter's contents, whatever its status.
_WHO_GETS_WHAT = {
    APPROVERS_ONLY: ((NOT_APPROVERS, 404), (APPROVERS, None)),
    REQUESTER_ONLY: ((NOT_REQUESTERS, 404), (REQUESTERS, None)),
    OVERSEERS_ONLY: ((NOT_OVERSEERS, 404), (OVERSEERS, None)),
    HR_ONLY: ((NOT_HR, 404), (HR, None)),
    OWNER_OR_RECORD_READERS: ((NOT_RECORD_READERS, 404), (RECORD_OWNER_AND_READERS, None)),
    # A published course and the firm's agreements: the firm's own material, for every member of staff.
    FIRM_CONTENT: ((STAFF, None),),
    # Walls: the security officer and the conflicts partner; the memo: the people a wall names.
    WALL_OFFICERS_ONLY: ((NOT_WALL_OFFICERS, 404), (("dana", "connie"), None)),
    NAMED_BY_WALL: ((("alice", "bob", "charlie", "dana", "adam", "root"), 404), (("walter",), None)),
    SECURITY_OFFICER_ONLY: ((NOT_SECURITY_OFFICER, 404), (("dana",), None)),
    # A grant under review on Alice's matter: Alice decides it.
    ITEM_REVIEWER_ONLY: ((("bob", "charlie", "dana", "adam", "root", "connie"), 404), (("alice",), None)),
    # Charlie's intake check: the conflicts partner decides it, Charlie who ran it may read it.
    CONFLICTS_ONLY: ((("alice", "bob", "dana", "adam", "root", "harriet"), 404), (("connie", "charlie"), None)),
    HR_AND_CONFLICTS: ((("alice", "bob", "charlie", "dana", "adam", "root"), 404), (("harriet", "connie"), None)),
}
REFUSALS = (302, 403, 404)

SECRETS = (
    "Operation Bluefin",  # matter title
    "Undisclosed tender offer",  # description
    "Marlin Holdings",  # client name
    "Tuna Fisheries Cooperative",  # adverse party
    "Swordfish Advisory",  # related party
    "Valuation model for the board",  # document title
    "valuation-model.pdf",  # document file name
)


@dataclass
class World:
    """The objects a URL can name."""

    matter: Matter
    client: Client
    party: Party
    document: Document
    alice: User
    user_grant: MatterUserGrant
    bob_grant: MatterUserGrant
    group: Group
    group_grant: MatterGroupGrant
    attempt: AccessAttempt
    access_log: AccessLog
    failure_log: AccessFailureLog
    user_session: UserSession
    job_run: JobRun
    log_entry: LogEntry
    audit_event: AuditEvent
    verification: AuditVerification
    alert: Alert
    shredding: ClientShredding
    access_request: AccessRequest
    training: TrainingWorld
    walls: WallsWorld


@dataclass
class TrainingWorld:
    """What the training app's URLs name: a published course with a question and an attachment,
    Bob's passed attempt and certificate, the agreement's version, an assignment rule."""

    course: Course
    question: Question
    attachment: CourseAttachment
    attempt: Attempt
    completion: Completion
    document: PolicyDocument
    version: DocumentVersion
    rule: AssignmentRule
    bob: User


@dataclass
class WallsWorld:
    """What issue 7's URLs name: a wall screening Walter from the matter, Bridget's ended emergency
    access, Bob's grant under review by Alice, Charlie's intake check."""

    wall: EthicalWall
    emergency: BreakGlassAccess
    campaign: AccessReviewCampaign
    item: AccessReviewItem
    check: ConflictCheck
    charlie: User


@dataclass(frozen=True)
class Entry:
    expect: str
    kwargs: Callable[[World], dict]
    # NOT_FOUND: what Alice, who runs the matter, gets. Admin kinds: what Root gets.
    success: int
    reason: str = ""


def _admin_object_urls(prefix: str, obj: Callable[[World], object], expect: str, reason: str = "", **statuses):
    """The four URLs the admin makes for one object of a registered model."""
    kwargs = lambda world: {"object_id": obj(world).pk}  # noqa: E731
    return {
        f"admin:{prefix}_history": Entry(expect, kwargs, statuses.get("history", 200), reason),
        f"admin:{prefix}_delete": Entry(expect, kwargs, statuses.get("delete", 200), reason),
        f"admin:{prefix}_change": Entry(expect, kwargs, statuses.get("change", 200), reason),
        # The bare object URL redirects to its change page.
        f"admin/{prefix.replace('_', '/', 1)}/<path:object_id>/": Entry(expect, kwargs, 302, reason),
    }


REGISTRY: dict[str, Entry] = {
    # --- the application ---------------------------------------------------------------
    "matters:detail": Entry(NOT_FOUND, lambda w: {"pk": w.matter.pk}, 200),
    "matters:document_upload": Entry(NOT_FOUND, lambda w: {"pk": w.matter.pk}, 200),
    "matters:document_download": Entry(NOT_FOUND, lambda w: {"pk": w.document.pk}, 200),
    "matters:document_detail": Entry(NOT_FOUND, lambda w: {"pk": w.document.pk}, 200),
    # --- the matter's team, managed by its partner -----------------------------------------
    "access:team": Entry(NOT_FOUND, lambda w: {"pk": w.matter.pk}, 200),
    "access:team_revoke_user": Entry(NOT_FOUND, lambda w: {"pk": w.matter.pk, "grant_id": w.bob_grant.pk}, 405),
    "access:team_revoke_group": Entry(NOT_FOUND, lambda w: {"pk": w.matter.pk, "grant_id": w.group_grant.pk}, 405),
    # --- access requests: deciding, withdrawing ---------------------------------------------
    "access:request_approve": Entry(APPROVERS_ONLY, lambda w: {"pk": w.access_request.pk}, 405),
    "access:request_deny": Entry(APPROVERS_ONLY, lambda w: {"pk": w.access_request.pk}, 405),
    "access:request_withdraw": Entry(REQUESTER_ONLY, lambda w: {"pk": w.access_request.pk}, 405),
    # --- who holds what: administrators and the security officer ----------------------------
    "access:person_access": Entry(OVERSEERS_ONLY, lambda w: {"user_id": w.alice.pk}, 200),
    "access:matter_access": Entry(OVERSEERS_ONLY, lambda w: {"pk": w.matter.pk}, 200),
    # --- the audit review: the security officer only ---------------------------------------
    "audit:event_detail": Entry(REVIEWER_ONLY, lambda w: {"pk": w.audit_event.pk}, 200),
    "audit:person_timeline": Entry(REVIEWER_ONLY, lambda w: {"user_id": w.alice.pk}, 200),
    "audit:matter_timeline": Entry(REVIEWER_ONLY, lambda w: {"matter_id": w.matter.pk}, 200),
    "audit:verification_detail": Entry(REVIEWER_ONLY, lambda w: {"pk": w.verification.pk}, 200),
    "audit:alert_detail": Entry(REVIEWER_ONLY, lambda w: {"pk": w.alert.pk}, 200),
    # --- client keys: the security officer and administrators ------------------------------
    "matters:client_key_detail": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.client.pk}, 200),
    "matters:client_legal_hold_set": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.client.pk}, 405),
    "matters:client_legal_hold_lift": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.client.pk}, 405),
    "matters:client_key_rotate": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.client.pk}, 405),
    "matters:client_shred_request": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.client.pk}, 405),
    "matters:client_shred_approve": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.shredding.pk}, 405),
    "matters:client_shred_cancel": Entry(KEY_ADMINS_ONLY, lambda w: {"pk": w.shredding.pk}, 405),
    # --- training: everyone's own, and the firm's material ----------------------------------
    "training:course": Entry(FIRM_CONTENT, lambda w: {"pk": w.training.course.pk}, 200, "a published course"),
    "training:quiz": Entry(FIRM_CONTENT, lambda w: {"pk": w.training.course.pk}, 200, "a published course's quiz"),
    "training:attachment": Entry(
        FIRM_CONTENT, lambda w: {"pk": w.training.attachment.pk}, 200, "a published course's handout"
    ),
    "training:sign": Entry(
        FIRM_CONTENT, lambda w: {"pk": w.training.version.pk}, 200, "the firm's confidentiality agreement"
    ),
    "training:attempt": Entry(OWNER_OR_RECORD_READERS, lambda w: {"pk": w.training.attempt.pk}, 200),
    "training:certificate": Entry(OWNER_OR_RECORD_READERS, lambda w: {"pk": w.training.completion.pk}, 200),
    "training:person": Entry(OWNER_OR_RECORD_READERS, lambda w: {"pk": w.training.bob.pk}, 200),
    # --- training: HR's pages -----------------------------------------------------------------
    "training:course_edit": Entry(HR_ONLY, lambda w: {"pk": w.training.course.pk}, 200),
    "training:course_publish": Entry(HR_ONLY, lambda w: {"pk": w.training.course.pk}, 405),
    "training:course_retire": Entry(HR_ONLY, lambda w: {"pk": w.training.course.pk}, 405),
    "training:question_new": Entry(HR_ONLY, lambda w: {"pk": w.training.course.pk}, 200),
    "training:question_edit": Entry(HR_ONLY, lambda w: {"pk": w.training.question.pk}, 200),
    "training:question_delete": Entry(HR_ONLY, lambda w: {"pk": w.training.question.pk}, 405),
    "training:attachment_add": Entry(HR_ONLY, lambda w: {"pk": w.training.course.pk}, 405),
    "training:attachment_remove": Entry(HR_ONLY, lambda w: {"pk": w.training.attachment.pk}, 405),
    "training:assign": Entry(HR_ONLY, lambda w: {"pk": w.training.course.pk}, 200),
    "training:rule_end": Entry(HR_ONLY, lambda w: {"pk": w.training.rule.pk}, 405),
    "training:version_new": Entry(HR_ONLY, lambda w: {"pk": w.training.document.pk}, 200),
    # --- walls, emergency access, reviews, conflict checks ---------------------------------------
    "access:wall_detail": Entry(WALL_OFFICERS_ONLY, lambda w: {"pk": w.walls.wall.pk}, 200),
    "access:wall_lift": Entry(WALL_OFFICERS_ONLY, lambda w: {"pk": w.walls.wall.pk}, 405),
    "access:wall_acknowledge": Entry(NAMED_BY_WALL, lambda w: {"pk": w.walls.wall.pk}, 200),
    "access:break_glass_review": Entry(SECURITY_OFFICER_ONLY, lambda w: {"pk": w.walls.emergency.pk}, 200),
    "access:review_detail": Entry(SECURITY_OFFICER_ONLY, lambda w: {"pk": w.walls.campaign.pk}, 200),
    "access:review_close": Entry(SECURITY_OFFICER_ONLY, lambda w: {"pk": w.walls.campaign.pk}, 405),
    "access:review_decide": Entry(ITEM_REVIEWER_ONLY, lambda w: {"pk": w.walls.item.pk}, 405),
    "matters:conflict_detail": Entry(CONFLICTS_ONLY, lambda w: {"pk": w.walls.check.pk}, 200),
    "matters:lateral_hire": Entry(HR_AND_CONFLICTS, lambda w: {"user_id": w.walls.charlie.pk}, 200),
    # --- the admin site: matters and grants, as metadata ----------------------------------
    "admin:view_on_site": Entry(
        ADMIN_METADATA,
        lambda w: {"content_type_id": ContentType.objects.get_for_model(Matter).pk, "object_id": w.matter.pk},
        302,  # to the matter's own page, which answers 404 to anyone without a grant
    ),
    **_admin_object_urls("matters_matter", lambda w: w.matter, ADMIN_METADATA, delete=403),
    **_admin_object_urls("access_matterusergrant", lambda w: w.user_grant, ADMIN_METADATA),
    **_admin_object_urls("access_mattergroupgrant", lambda w: w.group_grant, ADMIN_METADATA),
    # A matter's change history (django-auditlog): client information is masked in it.
    **_admin_object_urls("auditlog_logentry", lambda w: w.log_entry, ADMIN_METADATA, delete=403),
    # --- the admin site: not client information ----------------------------------------
    **_admin_object_urls("access_user", lambda w: w.alice, NOT_CLIENT_DATA, "a person's account, employment and roles"),
    "admin:auth_user_password_change": Entry(
        NOT_CLIENT_DATA, lambda w: {"id": w.alice.pk}, 200, "sets a person's password"
    ),
    **_admin_object_urls(
        "auth_group", lambda w: w.group, NOT_CLIENT_DATA, "a role or team: name and model permissions"
    ),
    **_admin_object_urls(
        "access_usersession", lambda w: w.user_session, NOT_CLIENT_DATA, "who is signed in, from where", delete=403
    ),
    **_admin_object_urls(
        "axes_accessattempt", lambda w: w.attempt, NOT_CLIENT_DATA, "failed sign-in attempts (django-axes)"
    ),
    **_admin_object_urls("axes_accesslog", lambda w: w.access_log, NOT_CLIENT_DATA, "sign-in log (django-axes)"),
    **_admin_object_urls(
        "axes_accessfailurelog", lambda w: w.failure_log, NOT_CLIENT_DATA, "sign-in failure log (django-axes)"
    ),
    **_admin_object_urls(
        "jobs_jobrun", lambda w: w.job_run, NOT_CLIENT_DATA, "a housekeeping job's run: times and counts", delete=403
    ),
    "admin:app_list": Entry(NOT_CLIENT_DATA, lambda w: {"app_label": "matters"}, 200, "an app's list of models"),
    "admin/(?P<url>.*)$": Entry(
        NOT_CLIENT_DATA,
        lambda w: {"url": "matters/client/"},  # an unregistered model: the admin's catch-all answers 404
        404,
        "the admin's catch-all: a slash redirect or 404",
    ),
}


# --- walking the URL patterns --------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str
    route: str
    name: str | None
    params: tuple[str, ...]


def _join(prefix: str, route: str) -> str:
    # As django.urls.resolvers.URLResolver._join_route, so ``resolve(url).route`` compares equal.
    return route if not prefix else prefix + route.removeprefix("^")


def _params(pattern) -> list[str]:
    regex = pattern.regex
    named = list(regex.groupindex)
    return named + [f"<unnamed group {i}>" for i in range(regex.groups - len(named))]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "", params: tuple = ()):
    for item in resolver.url_patterns:
        route = _join(prefix, str(item.pattern))
        found = (*params, *_params(item.pattern))
        if isinstance(item, URLResolver):
            inner = ":".join(part for part in (namespace, item.namespace) if part)
            yield from _walk(item, route, inner, found)
        elif isinstance(item, URLPattern):
            name = f"{namespace}:{item.name}" if namespace and item.name else item.name
            yield Pattern(key=name or route, route=route, name=name, params=found)


ALL_PATTERNS = list(_walk(get_resolver()))
WITH_PARAMETERS = {pattern.key: pattern for pattern in ALL_PATTERNS if pattern.params}


def build_url(pattern: Pattern, kwargs: dict) -> str:
    if pattern.name:
        url = reverse(pattern.name, kwargs=kwargs)
    else:
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), pattern.route)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), path)
        url = "/" + path.replace("^", "").replace("$", "")
    # The URL must reach the pattern under test, not a neighbour.
    assert resolve(url).route == pattern.route, f"{url} resolves to {resolve(url).route}, not {pattern.route}"
    return url


# --- fixtures --------------------------------------------------------------------------------------


def _training_world(harriet, bob) -> TrainingWorld:
    course = make_course("Confidentiality duties")
    attachment = services.add_attachment(
        actor=harriet, course=course, upload=SimpleUploadedFile("handout.pdf", b"%PDF-1.4 handout", "application/pdf")
    )
    rule, _made = services.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=timezone.localdate()
    )
    attempt = services.submit_attempt(
        user=bob, attempt_id=services.start_attempt(user=bob, course=course).pk, answers=answer_key(course)
    )
    document = make_policy_document()
    version = services.publish_version(
        actor=harriet, document=document, text_en="I keep secrets.", text_zh="我保守秘密。",
        sign_by=timezone.localdate() + timedelta(days=14),
    )  # fmt: skip
    return TrainingWorld(
        course=course, question=course.questions.first(), attachment=attachment, attempt=attempt,
        completion=attempt.completion, document=document, version=version, rule=rule, bob=bob,
    )  # fmt: skip


@pytest.fixture
def walter(db):
    return _persona("walter", "Walter", (Role.LAWYER,))


@pytest.fixture
def bridget(db):
    return _persona("bridget", "Bridget", (Role.LAWYER,))


def _walls_world(matter, alice, bob, charlie, walter, bridget) -> WallsWorld:
    # Walter's grant predates the wall (a wall written directly, as if the grant had slipped through):
    # the policy must refuse him whatever he holds.
    grant(walter, matter, GrantLevel.DOWNLOAD)
    wall = EthicalWall.objects.create(
        kind=WallKind.EXCLUSIONARY, client=matter.client, matter=matter, reason="Acted for the bidder", memo="Screened"
    )
    WallMember.objects.create(wall=wall, user=walter)
    started = timezone.now() - timedelta(hours=6)
    emergency_grant = grant(bridget, matter, GrantLevel.VIEW, expires_at=timezone.now() + timedelta(hours=1))
    MatterUserGrant.objects.filter(pk=emergency_grant.pk).update(expires_at=started + timedelta(hours=4))
    emergency = BreakGlassAccess.objects.create(
        user=bridget, matter=matter, reason="Court filing tonight", started_at=started,
        expires_at=started + timedelta(hours=4),
    )  # fmt: skip
    campaign = start_campaign(actor=None, name="Q4 2026")
    item = campaign.items.get(user=bob, matter=matter)
    intake = MatterFactory(number="2026-INT-0001", status=MatterStatus.INTAKE, responsible_partner=alice)
    check = ConflictCheck.objects.create(matter=intake, run_by=charlie, hits=[])
    return WallsWorld(
        wall=wall, emergency=emergency, campaign=campaign, item=item, check=check, charlie=charlie
    )  # fmt: skip


@pytest.fixture
def world(matter, alice, bob, charlie, harriet, walter, bridget) -> World:
    matter.title = "Operation Bluefin"
    matter.description = "Undisclosed tender offer for a listed fishery."
    matter.save()
    matter.client.name = "Marlin Holdings"
    matter.client.save()
    party = PartyFactory(matter=matter, name="Tuna Fisheries Cooperative", role=PartyRole.ADVERSE)
    PartyFactory(matter=matter, name="Swordfish Advisory", role=PartyRole.RELATED)
    document = make_document(matter, title="Valuation model for the board", name="valuation-model.pdf", uploader=alice)
    team = Group.objects.create(name="Bluefin deal team")
    bob.groups.add(team)
    request_like = {"user_agent": "pytest", "ip_address": "192.0.2.7", "http_accept": "*/*"}
    audit_event = record_event(AuditAction.MATTER_VIEW, actor=alice, target=document)
    return World(
        matter=matter,
        client=matter.client,
        party=party,
        document=document,
        alice=alice,
        user_grant=MatterUserGrant.objects.get(user=alice, content_object=matter),
        bob_grant=MatterUserGrant.objects.get(user=bob, content_object=matter),
        group=team,
        group_grant=grant(team, matter, GrantLevel.DOWNLOAD),
        attempt=AccessAttempt.objects.create(
            username="alice", path_info="/account/sign-in/", get_data="", post_data="", failures_since_start=2,
            **request_like,
        ),
        access_log=AccessLog.objects.create(username="alice", path_info="/account/sign-in/", **request_like),
        failure_log=AccessFailureLog.objects.create(username="alice", path_info="/account/sign-in/", **request_like),
        user_session=UserSession.objects.create(session_key="k" * 32, user=alice, ip_address="192.0.2.7"),
        job_run=JobRun.objects.create(job="access.end_departed_access", counts={"users": 1}),
        log_entry=LogEntry.objects.get_for_object(matter).order_by("-pk").first(),
        audit_event=audit_event,
        verification=verify_audit_trail(),
        alert=Alert.objects.create(
            rule=Rule.BULK_DOWNLOAD, severity=Severity.HIGH, subject=alice, subject_username=alice.username,
            matter_id=matter.pk, matter_number=matter.number, facts={"count": 51, "minutes": 10}, event_count=51,
            first_event=audit_event.pk, last_event=audit_event.pk, window_start=audit_event.occurred_at,
            window_end=audit_event.occurred_at,
        ),
        shredding=ClientShredding.objects.create(client=matter.client, requested_by=alice),
        access_request=request_access(
            actor=charlie, number=matter.number, level=GrantLevel.VIEW, reason="Covers the hearing next week",
            ends_on=timezone.localdate() + timedelta(days=10),
        ),
        training=_training_world(harriet, bob),
        walls=_walls_world(matter, alice, bob, charlie, walter, bridget),
    )  # fmt: skip


def _get(client, url: str):
    response = client.get(url)
    if response.streaming:
        # Reading to the end lets the test client close the file; response.close() would
        # also fire request_finished and close the test's database connection.
        b"".join(response.streaming_content)
    return response


def _assert_no_client_information(response, who: str) -> None:
    if response.streaming:
        return  # a download; only ever reached by a grant holder in the cases above
    page = response.content.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in page, f"{who} sees {secret!r} at {response.wsgi_request.get_full_path()}"


# --- the tests ---------------------------------------------------------------------------------------


def test_the_walk_finds_the_urls_that_name_matters_and_documents():
    """Guards the guard: a walk that found nothing would make the matrix pass vacuously."""
    assert {"matters:detail", "matters:document_upload", "matters:document_download"} <= set(WITH_PARAMETERS)
    assert "admin:matters_matter_change" in WITH_PARAMETERS
    assert "admin:access_matterusergrant_change" in WITH_PARAMETERS
    assert "matters:list" not in WITH_PARAMETERS


def test_every_registry_entry_names_a_url_that_exists():
    stale = sorted(set(REGISTRY) - set(WITH_PARAMETERS))
    assert not stale, f"permission matrix entries for URL patterns that no longer exist: {stale}"


def test_every_entry_says_why_it_is_not_client_data():
    unexplained = [key for key, entry in REGISTRY.items() if entry.expect == NOT_CLIENT_DATA and not entry.reason]
    assert not unexplained


@pytest.mark.parametrize("key", sorted(WITH_PARAMETERS))
def test_matrix(key, world, client, request):
    pattern = WITH_PARAMETERS[key]
    entry = REGISTRY.get(key)
    if entry is None:
        pytest.fail(
            f"URL pattern {pattern.route!r} (key {key!r}) takes {list(pattern.params)} but has no entry "
            f"in the permission matrix: add one to REGISTRY in tests/security/test_permission_matrix.py",
            pytrace=False,
        )
    url = build_url(pattern, entry.kwargs(world))
    everyone = {
        *OUTSIDERS,
        *ADMIN_VISITORS,
        *NOT_REVIEWERS,
        *KEY_ADMINS,
        *NOT_KEY_ADMINS,
        *NOT_REQUESTERS,
        *HR,
        "connie",
    }
    people = {name: request.getfixturevalue(name) for name in everyone}

    if entry.expect == NOT_FOUND:
        for name in OUTSIDERS:
            response = _get(signed_in(client, people[name]), url)
            assert response.status_code == 404, f"{name} got {response.status_code} at {url}"
            _assert_no_client_information(response, name)
        # The same URL works for the person who runs the matter…
        owner = _get(signed_in(client, world.alice), url)
        assert owner.status_code == entry.success, f"alice got {owner.status_code} at {url}"
        # …and for her, an id that does not exist looks exactly like one she may not see.
        missing = {k: uuid.uuid4() if isinstance(v, uuid.UUID) else v for k, v in entry.kwargs(world).items()}
        assert _get(client, reverse(pattern.name, kwargs=missing)).status_code == 404
    elif entry.expect in (ADMIN_METADATA, NOT_CLIENT_DATA):
        for name in ADMIN_VISITORS:
            response = _get(signed_in(client, people[name]), url)
            assert response.status_code < 500, f"{name} got {response.status_code} at {url}"
            if response.status_code not in REFUSALS:
                _assert_no_client_information(response, name)
            if name == "root":
                assert response.status_code == entry.success, f"root got {response.status_code} at {url}"
    elif entry.expect == REVIEWER_ONLY:
        for name in NOT_REVIEWERS:
            response = _get(signed_in(client, people[name]), url)
            assert response.status_code == 404, f"{name} got {response.status_code} at {url}"
            _assert_no_client_information(response, name)
        officer = _get(signed_in(client, people["dana"]), url)
        assert officer.status_code == entry.success, f"dana got {officer.status_code} at {url}"
        _assert_no_client_information(officer, "dana")
    elif entry.expect == KEY_ADMINS_ONLY:
        for name in NOT_KEY_ADMINS:
            response = _get(signed_in(client, people[name]), url)
            assert response.status_code == 404, f"{name} got {response.status_code} at {url}"
            _assert_no_client_information(response, name)
        for name in KEY_ADMINS:
            response = _get(signed_in(client, people[name]), url)
            assert response.status_code == entry.success, f"{name} got {response.status_code} at {url}"
            _assert_no_client_information(response, name)
    elif entry.expect in _WHO_GETS_WHAT:
        for names, status in _WHO_GETS_WHAT[entry.expect]:
            for name in names:
                response = _get(signed_in(client, people[name]), url)
                expected = status or entry.success
                assert response.status_code == expected, f"{name} got {response.status_code} at {url}"
                _assert_no_client_information(response, name)
    else:
        pytest.fail(f"unknown expectation {entry.expect!r} for {key!r}")


def test_admin_visitors_are_refused_or_see_metadata_only_after_following_redirects(world, client, root, adam):
    """A redirect from an admin URL (the object shortcut, the bare object URL) must not land on content."""
    urls = [
        build_url(WITH_PARAMETERS[key], REGISTRY[key].kwargs(world))
        for key, entry in REGISTRY.items()
        if entry.expect == ADMIN_METADATA and entry.success == 302
    ]
    assert urls
    for person in (adam, root):
        for url in urls:
            response = signed_in(client, person).get(url, follow=True)
            assert response.status_code in (200, 403, 404), url
            _assert_no_client_information(response, person.username)
