"""The one declaration of which fields hold client information, and which models keep a history.

``SENSITIVE_FIELDS`` is read by everything that must treat client information
differently: the model change history masks these fields (``audit.history``).
Encrypted fields (``vault.fields``) add themselves here as their model is
defined, so declaring a field encrypted is also what masks it: a field cannot
be encrypted but logged in clear. The entries written below are the sensitive
fields that are *not* encrypted columns: the document file (the vault encrypts
its content, not its name) and a grant's reason (an administrative note, kept
in clear so the admin can show it, but never logged). ``tests/audit/test_history.py``
fails if a name here no longer exists on its model, so a rename cannot silently
un-mask it.

Pure data: nothing here imports a model (the declaration is read while apps load).
Models are named by ``Model._meta.label_lower`` (``"matters.document"``).
"""

from __future__ import annotations

from dataclasses import dataclass

SENSITIVE_FIELDS: dict[str, tuple[str, ...]] = {
    # A client's code is the safe label used in logs and events; its name is encrypted.
    # ``file``: the stored name is ``<matter id>/<document id>`` (matters.models._document_path),
    # but before the row is saved the field holds the upload under the client's own file
    # name, which is what a pre-save diff would see; and its content is client information
    # (the vault encrypts the content, not the name).
    "matters.document": ("file",),
    # A grant's reason is free text typed by whoever grants ("covering the Zhang merger
    # while Bob is away") and so may name the client or the deal.
    "access.matterusergrant": ("reason",),
    "access.mattergroupgrant": ("reason",),
    # Requests and decisions are free text of the same kind.
    "access.accessrequest": ("reason", "decision_reason"),
    "access.accessapproval": ("note",),
    # The conflicts partner's note may name the conflicting client.
    "matters.conflictcheck": ("decision_note",),
}


@dataclass(frozen=True)
class History:
    """How a tracked model's change history is kept.

    ``exclude``: fields left out of the history altogether (secrets that are not
    client information, or bookkeeping the log entry already records).
    ``m2m``: many-to-many fields whose additions and removals are recorded too.
    """

    exclude: tuple[str, ...] = ()
    m2m: tuple[str, ...] = ()


TRACKED_MODELS: dict[str, History] = {
    "matters.client": History(),
    "matters.matter": History(),
    "matters.party": History(),
    "matters.document": History(),
    # Names and e-mail addresses are staff data, not client data: kept in clear. The
    # password hash is a secret, and last_login changes at every sign-in (the access
    # events record sign-ins). Roles are group memberships, so those changes are kept.
    "access.user": History(exclude=("password", "last_login"), m2m=("groups", "user_permissions")),
    "access.matterusergrant": History(),
    "access.mattergroupgrant": History(),
    "access.accessrequest": History(),
    "access.accessapproval": History(),
    "access.ethicalwall": History(),
    "access.wallmember": History(),
    "access.breakglassaccess": History(),
    "matters.clientalias": History(),
    "matters.conflictcheck": History(),
    # updated_at only repeats the log entry's own timestamp.
    "audit.detectionsettings": History(exclude=("updated_at",)),
    "audit.alert": History(exclude=("updated_at",)),
}


def declare_sensitive(label: str, field_name: str) -> None:
    """Add a field to the registry (called by each encrypted field as its model is built)."""
    label = label.lower()
    if field_name not in SENSITIVE_FIELDS.get(label, ()):
        SENSITIVE_FIELDS[label] = (*SENSITIVE_FIELDS.get(label, ()), field_name)


def sensitive_fields(label: str) -> tuple[str, ...]:
    """The sensitive fields of the model labelled ``label`` ("matters.Document" or "matters.document")."""
    return SENSITIVE_FIELDS.get(label.lower(), ())


def is_sensitive(label: str, field_name: str) -> bool:
    return field_name in sensitive_fields(label)
