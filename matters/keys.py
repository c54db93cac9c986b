"""Who may manage a client's keys, and the audited operations on them.

Legal hold, crypto-shredding (two different people approve) and key rotation,
as the security officer and administrators see them. The mechanics live in
:mod:`vault.services`; this module decides who may, checks the client's
retention and hold, writes the audit events, and hands the long work to jobs.

Who may do what:

- legal hold, set and lifted: the security officer only;
- shredding, requested, approved and cancelled: the security officer or an
  administrator, and the approver must be someone other than the requester;
- a client key rotation: the security officer only (``actor=None`` is the
  operator at the command line, who holds the keys anyway).

A refusal raises :class:`KeyActionRefused`, whose message is safe to show and
names no client information; it is also recorded as a denied audit event.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from access.models import Role
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from jobs.services import run_job
from matters.models import Client, ClientShredding, ShreddingStatus
from vault import services as vault_services
from vault.models import DataKey, KeyRotation, KeyState, RotationState

KEY_ROLES = (Role.SECURITY_OFFICER, Role.ADMINISTRATOR)
ROTATION_JOB = "vault.rotate_client_key"
SHRED_JOB = "vault.shred_client"


class KeyActionRefused(Exception):
    """A key operation that may not happen; ``message`` is translatable and names no client data."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


# --- who may ----------------------------------------------------------------------------------


def _holds_role(user, roles: Iterable[Role]) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if getattr(user, "is_departed", False):
        return False
    return any(user.has_role(role) for role in roles)


def may_manage_keys(user) -> bool:
    """The security officer or an administrator: who sees the client keys screens."""
    return _holds_role(user, KEY_ROLES)


def is_security_officer(user) -> bool:
    return _holds_role(user, (Role.SECURITY_OFFICER,))


_OFFICER_ONLY = _("Only the security officer may do this.")
_KEY_ROLES_ONLY = _("Only the security officer or an administrator may do this.")


def _require(actor, roles: Iterable[Role], message) -> None:
    if not _holds_role(actor, roles):
        raise KeyActionRefused(message)


@contextlib.contextmanager
def _refusal_recorded(action: str, *, actor, client: Client | None):
    """Record a refused attempt as a denied event, outside the rolled-back transaction."""
    try:
        yield
    except KeyActionRefused as refusal:
        record_event(action, outcome=Outcome.DENIED, actor=actor, target=client, reason=refusal.message)
        raise


def _locked(client: Client) -> Client:
    return Client.objects.select_for_update().get(pk=client.pk)


# --- legal hold -------------------------------------------------------------------------------


def _change_legal_hold(*, actor, client: Client, reason: str, hold: bool) -> Client:
    action = AuditAction.LEGAL_HOLD_SET if hold else AuditAction.LEGAL_HOLD_LIFT
    with _refusal_recorded(action, actor=actor, client=client), transaction.atomic():
        client = _locked(client)
        _require(actor, (Role.SECURITY_OFFICER,), _("Only the security officer places or lifts a legal hold."))
        if client.shredded_at:
            raise KeyActionRefused(_("This client's keys were destroyed: there is nothing left to hold."))
        if client.legal_hold == hold:
            raise KeyActionRefused(
                _("This client is already under legal hold.") if hold else _("This client is not under legal hold.")
            )
        reason = (reason or "").strip()
        if not reason:
            raise KeyActionRefused(_("Give the reason for the change."))
        client.legal_hold = hold
        # The reason for the latest change, encrypted under the client's key: it may name the client.
        client.legal_hold_reason = reason
        client.legal_hold_changed_by = actor
        client.legal_hold_changed_at = timezone.now()
        client.save(update_fields=["legal_hold", "legal_hold_reason", "legal_hold_changed_by", "legal_hold_changed_at"])
        # The reason stays out of the event: it may name the client or the proceedings.
        record_event(action, actor=actor, target=client)
    return client


def set_legal_hold(*, actor, client: Client, reason: str) -> Client:
    """Place ``client`` under legal hold: its keys cannot be destroyed until the hold is lifted."""
    return _change_legal_hold(actor=actor, client=client, reason=reason, hold=True)


def lift_legal_hold(*, actor, client: Client, reason: str) -> Client:
    """Lift the legal hold; ``reason`` says why, and replaces the reason it was placed for."""
    return _change_legal_hold(actor=actor, client=client, reason=reason, hold=False)


# --- crypto-shredding ---------------------------------------------------------------------------


def retention_ended(client: Client) -> bool:
    """Whether ``client``'s retention period is over.

    ``retention_until`` is the last day the records must be kept (inclusive), so
    retention has ended only from the next day on, in the firm's time zone
    (settings.TIME_ZONE): ``retention_until < today``. No date means "keep".
    """
    return client.retention_until is not None and client.retention_until < timezone.localdate()


def _check_shreddable(client: Client) -> None:
    if client.shredded_at:
        raise KeyActionRefused(_("This client's keys were already destroyed."))
    if client.legal_hold:
        raise KeyActionRefused(
            _("This client is under legal hold: its keys cannot be destroyed until the security officer lifts it.")
        )
    if client.retention_until is None:
        raise KeyActionRefused(_("No retention date is recorded for this client: its records are kept."))
    if not retention_ended(client):
        raise KeyActionRefused(
            _("This client's records must be kept until %(date)s: its keys cannot be destroyed before then.")
            % {"date": formats.date_format(client.retention_until, "Y-m-d")}
        )


def request_shredding(*, actor, client: Client) -> ClientShredding:
    """Ask for ``client``'s keys to be destroyed; the requester is the first of two approvals."""
    with _refusal_recorded(AuditAction.SHRED_REQUEST, actor=actor, client=client), transaction.atomic():
        client = _locked(client)
        _require(actor, KEY_ROLES, _KEY_ROLES_ONLY)
        _check_shreddable(client)
        if ClientShredding.objects.filter(client=client, status=ShreddingStatus.PENDING).exists():
            raise KeyActionRefused(_("A request to destroy this client's keys is already awaiting approval."))
        shredding = ClientShredding.objects.create(client=client, requested_by=actor)
        record_event(AuditAction.SHRED_REQUEST, actor=actor, target=client, detail={"shredding": shredding.pk})
    return shredding


def _locked_pending(shredding: ClientShredding) -> tuple[ClientShredding, Client]:
    shredding = ClientShredding.objects.select_for_update().get(pk=shredding.pk)
    client = _locked(shredding.client)
    if shredding.status != ShreddingStatus.PENDING:
        raise KeyActionRefused(_("This request is no longer awaiting approval."))
    return shredding, client


def approve_shredding(*, actor, shredding: ClientShredding) -> ClientShredding:
    """The second approval: destroys the client's keys, blanks its indexes and deletes its files.

    Legal hold and retention are checked again now: either may have changed
    since the request.
    """
    with _refusal_recorded(AuditAction.SHRED_APPROVE, actor=actor, client=shredding.client), transaction.atomic():
        shredding, client = _locked_pending(shredding)
        _require(actor, KEY_ROLES, _KEY_ROLES_ONLY)
        if actor.pk == shredding.requested_by_id:
            raise KeyActionRefused(
                _(
                    "You requested this destruction: a second, different person must approve it. "
                    "One approver cannot shred alone."
                )
            )
        _check_shreddable(client)
        shredding.approved_by, shredding.approved_at = actor, timezone.now()
        shredding.save(update_fields=["approved_by", "approved_at"])
        record_event(AuditAction.SHRED_APPROVE, actor=actor, target=client, detail={"shredding": shredding.pk})
        # Run now, not queued: the client must be unreadable the moment the approval is given.
        # Through run_job all the same, so the destruction has its JobRun like every job.
        run_job(SHRED_JOB, shredding_id=shredding.pk)
    shredding.refresh_from_db()
    return shredding


def destroy_client_keys(shredding_id: int) -> dict:
    """The shredding job: destroy an approved request's client keys, blank its indexes, delete its files.

    Called by :func:`approve_shredding` inside its transaction, after both
    approvals are recorded; refuses a request that is not approved by two people.
    """
    shredding = (
        ClientShredding.objects.select_related("client", "requested_by").select_for_update().get(pk=shredding_id)
    )
    client = shredding.client
    if shredding.status != ShreddingStatus.PENDING or shredding.approved_by_id in (None, shredding.requested_by_id):
        raise KeyActionRefused(_("This request is no longer awaiting approval."))
    destroyed = vault_services.destroy_owner_data(client.pk)
    now = timezone.now()
    client.shredded_at = now
    client.save(update_fields=["shredded_at"])
    shredding.status, shredding.finished_at = ShreddingStatus.DONE, now
    shredding.keys_destroyed, shredding.files_deleted = destroyed["keys_destroyed"], destroyed["files_deleted"]
    shredding.save(update_fields=["status", "finished_at", "keys_destroyed", "files_deleted"])
    record_event(
        AuditAction.KEYS_DESTROYED,
        actor=shredding.approved_by,
        target=client,
        detail={
            "shredding": shredding.pk,
            "requested_by": shredding.requested_by.get_username(),
            "keys_destroyed": shredding.keys_destroyed,
            "files_deleted": shredding.files_deleted,
        },
    )
    return {"keys_destroyed": shredding.keys_destroyed, "files_deleted": shredding.files_deleted}


def cancel_shredding(*, actor, shredding: ClientShredding) -> ClientShredding:
    """Withdraw a pending request (the requester or anyone else who could approve it)."""
    with _refusal_recorded(AuditAction.SHRED_CANCEL, actor=actor, client=shredding.client), transaction.atomic():
        shredding, client = _locked_pending(shredding)
        _require(actor, KEY_ROLES, _KEY_ROLES_ONLY)
        shredding.status, shredding.cancelled_by, shredding.finished_at = (
            ShreddingStatus.CANCELLED,
            actor,
            timezone.now(),
        )
        shredding.save(update_fields=["status", "cancelled_by", "finished_at"])
        record_event(AuditAction.SHRED_CANCEL, actor=actor, target=client, detail={"shredding": shredding.pk})
    return shredding


# --- client key rotation ---------------------------------------------------------------------------


def _enqueue_rotation(rotation_id: int) -> None:
    from jobs.tasks import run_periodic_job

    run_periodic_job.delay(ROTATION_JOB, rotation_id=rotation_id)


def start_client_key_rotation(*, actor, client: Client, enqueue: bool = True) -> KeyRotation:
    """Give ``client`` a new data key and re-encrypt its data under it in the background.

    ``enqueue=False`` leaves the re-encryption to the caller (the command runs it
    in its own process); otherwise a job starts once this transaction commits,
    and the periodic ``vault.resume_rotations`` picks it up if it is interrupted.
    """
    with _refusal_recorded(AuditAction.CLIENT_KEY_ROTATE, actor=actor, client=client), transaction.atomic():
        client = _locked(client)
        if actor is not None:
            _require(actor, (Role.SECURITY_OFFICER,), _("Only the security officer rotates a client's key."))
        if client.shredded_at:
            raise KeyActionRefused(_("This client's keys were destroyed: there is no key to rotate."))
        if vault_services.unfinished_rotations().filter(owner=client.pk).exists():
            raise KeyActionRefused(_("A key rotation is already under way for this client."))
        if not DataKey.objects.filter(owner=client.pk, state=KeyState.ACTIVE).exists():
            raise KeyActionRefused(_("Nothing is encrypted for this client yet: there is no key to rotate."))
        try:
            rotation = vault_services.start_key_rotation(client.pk, actor=actor)
        except vault_services.VaultError:
            # The checks above cover the known causes; this is a race with another request.
            raise KeyActionRefused(_("The key rotation could not start. Reload the page and try again.")) from None
        record_event(
            AuditAction.CLIENT_KEY_ROTATE,
            actor=actor,
            target=client,
            detail={"rotation": rotation.pk, "rows": rotation.rows_total, "files": rotation.files_total},
        )
        if enqueue:
            # robust: a job that fails is recorded as a failed run and resumed later; the request stands.
            transaction.on_commit(functools.partial(_enqueue_rotation, rotation.pk), robust=True)
    return rotation


def continue_client_key_rotation(rotation_id: int, *, batch_size: int | None = None, max_batches: int | None = None):
    """The rotation job: carry rotation ``rotation_id`` forward (see vault.services.continue_key_rotation)."""
    before = KeyRotation.objects.filter(pk=rotation_id).values_list("state", flat=True).first()
    if before is None:
        return {}
    rotation = vault_services.continue_key_rotation(rotation_id, batch_size=batch_size, max_batches=max_batches)
    finished = rotation.state == RotationState.DONE and before != RotationState.DONE
    if finished:
        record_event(
            AuditAction.CLIENT_KEY_ROTATED,
            actor=None,
            target=Client.objects.filter(pk=rotation.owner).first(),
            detail={"rotation": rotation.pk, "rows": rotation.rows_total, "files": rotation.files_total},
        )
    return {
        "rotation": rotation.pk,
        "percent": rotation.percent,
        "rows_done": rotation.rows_done,
        "files_done": rotation.files_done,
        "finished": int(finished),
    }


def rewrap_data_keys(*, progress: Callable[[dict], None] | None = None, batch_size: int = 5000) -> dict:
    """The KEK rewrap job: every data key under the current KEK version, unused versions retired."""
    result = vault_services.rewrap_data_keys(batch_size=batch_size, progress=progress)
    if result["rewrapped"] or result["retired_versions"]:
        record_event(AuditAction.KEK_REWRAP, actor=None, detail=result)
    return result


def resume_rotations() -> dict:
    """The periodic job: finish a KEK rewrap and every client key rotation left unfinished."""
    status = vault_services.kek_status()
    unretired = set(status["configured"]) - {status["current"]} - set(status["retired"])
    counts = {"rewrapped": 0, "rotations_continued": 0, "rotations_finished": 0}
    if status["remaining"] or unretired:
        counts["rewrapped"] = rewrap_data_keys()["rewrapped"]
    for rotation_id in vault_services.unfinished_rotations().values_list("pk", flat=True):
        counts["rotations_continued"] += 1
        counts["rotations_finished"] += continue_client_key_rotation(rotation_id).get("finished", 0)
    return counts


# --- reads for the screens and commands -----------------------------------------------------------


def key_states(clients: list[Client]) -> dict:
    """Per client id: its active key, latest rotation and latest shredding — three queries for a page."""
    ids = [client.pk for client in clients]
    active = {key.owner: key for key in DataKey.objects.filter(owner__in=ids, state=KeyState.ACTIVE)}
    rotations: dict = {}
    for rotation in KeyRotation.objects.filter(owner__in=ids).order_by("owner", "-started_at"):
        rotations.setdefault(rotation.owner, rotation)
    shreddings: dict = {}
    latest_first = ClientShredding.objects.filter(client_id__in=ids).order_by("client_id", "-requested_at")
    for shredding in latest_first.select_related("requested_by", "approved_by", "cancelled_by"):
        shreddings.setdefault(shredding.client_id, shredding)
    return {pk: {"key": active.get(pk), "rotation": rotations.get(pk), "shredding": shreddings.get(pk)} for pk in ids}
