"""State-changing operations on matters and documents."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from access.models import User
from access.policy import Action, gate_refusal, get_matter_for
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from matters.models import Classification, Document, Matter
from matters.uploads import UploadRejected, inspect_upload
from vault.keyring import KeyDestroyed


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _refuse_if_gated(actor: User, matter: Matter, classification: int) -> None:
    """A person the gate refuses confidential matters (training lapsed) files no confidential
    document either, even on a matter below the gate: they could not open it afterwards."""
    refusal = gate_refusal(actor, classification)
    if refusal is None:
        return
    record_event(
        AuditAction.DOCUMENT_UPLOAD,
        outcome=Outcome.DENIED,
        target=matter,
        actor=actor,
        reason=refusal.reason,
        detail={"classification": classification},
    )
    message = _("You cannot file a document of this classification now. %(reason)s") % {"reason": refusal.reason}
    raise ValidationError({"classification": message})


def add_document(
    *, actor: User, matter: Matter, title: str, classification: Classification | int, upload: UploadedFile
) -> Document:
    """File an uploaded document on a matter.

    Raises ``ValidationError`` (shown on the form) for a refused file, a
    classification below the matter's, or one the gate refuses the actor. The
    file is written before the row and removed again if the row cannot be
    saved, so neither is left half-made.
    """
    try:
        kind = inspect_upload(upload, settings.DOCUMENT_MAX_UPLOAD_BYTES)
    except UploadRejected as exc:
        raise ValidationError({"file": str(exc)}) from None
    document = Document(
        id=uuid.uuid4(),
        matter=matter,
        title=title.strip(),
        classification=classification,
        uploaded_by=actor,
        original_name=(upload.name or "document")[-255:],
        size=upload.size,
        content_type=kind.content_type,
        sha256=_sha256(upload),
    )
    document.full_clean(exclude=["file"])
    with transaction.atomic():
        # Re-check inside the transaction: the grant may have gone since the form was shown.
        try:
            matter = get_matter_for(actor, matter.pk, Action.EDIT, audit_as=AuditAction.DOCUMENT_UPLOAD)
        except (Http404, PermissionDenied):
            raise ValidationError(_("Your access to this matter no longer allows adding documents.")) from None
        _refuse_if_gated(actor, matter, document.classification)
        try:
            document.file.save(str(document.id), upload, save=False)
        except KeyDestroyed:
            message = _("This client's records were destroyed: nothing more can be filed for it.")
            raise ValidationError(message) from None
        try:
            document.save()
            # In the upload's transaction: the event exists exactly when the document does.
            record_event(
                AuditAction.DOCUMENT_UPLOAD,
                target=document,
                actor=actor,
                detail={"size": document.size, "content_type": document.content_type},
            )
        except Exception:
            document.file.delete(save=False)
            raise
    return document
