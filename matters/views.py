"""Matter list, matter page, document upload and download: thin views over access.policy."""

from __future__ import annotations

import logging
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from access.models import MatterGroupGrant, MatterUserGrant
from access.policy import (
    Action,
    Decision,
    can,
    count_visible_matters,
    gate_refusal,
    get_document_for,
    get_matter_for,
    get_matter_with_level_for,
    visible_matters,
)
from audit.actions import AuditAction, Outcome
from audit.events import fingerprint, record_event
from matters.forms import DocumentUploadForm, MatterFilterForm
from matters.models import Classification
from matters.services import add_document
from matters.uploads import exceeds_upload_limit
from vault.fields import preload_keys
from vault.keyring import KeyDestroyed
from vault.keys import KeyUnavailable
from vault.streams import TamperedFile

logger = logging.getLogger(__name__)


class KnownCountPaginator(Paginator):
    """A paginator told its count, which comes from the grant tables (see access.policy)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def matter_list(request: HttpRequest) -> HttpResponse:
    form = MatterFilterForm(request.GET or None)
    # Asked once for the whole page (one query), never per matter: a refused person sees
    # confidential rows by number only, and opening one answers 403 with the same reason.
    refusal = gate_refusal(request.user, Classification.CONFIDENTIAL)
    locked_from = Classification.CONFIDENTIAL if refusal is not None else None
    matter_q = None
    if form.is_bound:
        form.is_valid()  # the valid filters apply; an invalid one is named on the page
        matter_q = _searchable_q(form, locked_from)
    count = count_visible_matters(request.user, matter_q=matter_q)
    matters = visible_matters(request.user, matter_q=matter_q, known_count=count)
    paginator = KnownCountPaginator(
        matters.select_related("client", "responsible_partner").order_by("-opened_on", "number"),
        settings.MATTERS_PAGE_SIZE,
        count=count,
    )
    page = paginator.get_page(request.GET.get("page"))
    preload_keys(m for m in page.object_list if locked_from is None or m.classification < locked_from)
    _record_listing(request, form, page)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": matter_q is not None,
        "has_filters": any(request.GET.get(name) for name in form.fields),
        "refusal": refusal,
        "locked_from": locked_from,
    }
    return render(request, "matters/list.html", context)


def _searchable_q(form: MatterFilterForm, locked_from: int | None) -> Q | None:
    """The form's filters; for a person the gate refuses, a client's or party's name or ID
    number finds only the matters below the gate — otherwise the row a locked matter shows by
    number would tell them whose it is. Its number still finds a locked matter.

    The search is ``number OR name OR id``; ANDed with ``number OR unlocked`` it leaves
    ``number OR ((name OR id) AND unlocked)``.
    """
    matter_q = form.matter_q()
    term = getattr(form, "cleaned_data", {}).get("q", "").strip()
    if matter_q is None or locked_from is None or not term:
        return matter_q
    return matter_q & (Q(number__icontains=term) | Q(classification__lt=locked_from))


# Filters whose values are choices of ours (never client data): recorded as chosen.
_RECORDED_FILTERS = ("status", "classification", "practice_area")


def _record_listing(request: HttpRequest, form: MatterFilterForm, page) -> None:
    """One event per list page: a search when a term was given, else a listing.

    The term itself is never recorded, only its keyed fingerprint and length.
    """
    chosen = getattr(form, "cleaned_data", {})
    detail = {
        "page": page.number,
        "results": page.paginator.count,
        "filters": {name: chosen[name] for name in _RECORDED_FILTERS if chosen.get(name) not in (None, "")},
    }
    term = request.GET.get("q", "").strip()
    if term:
        record_event(AuditAction.MATTER_SEARCH, detail={**detail, "term": fingerprint(term), "term_length": len(term)})
    else:
        record_event(AuditAction.MATTER_LIST, detail=detail)


def matter_detail(request: HttpRequest, pk) -> HttpResponse:
    matter, level = get_matter_with_level_for(request.user, pk, Action.VIEW, audit_as=AuditAction.MATTER_VIEW)
    record_event(AuditAction.MATTER_VIEW, target=matter)
    parties, documents = list(matter.parties.all()), list(matter.documents.select_related("uploaded_by"))
    refusal = _documents_refusal(request.user, documents)
    for document in documents:
        # A document classified above its matter can be gated on a matter that is not: listed
        # without its title, name or fingerprint, and never decrypted (left out of the preload).
        document.locked = refusal is not None and document.classification >= Classification.CONFIDENTIAL
    preload_keys([matter, *parties, *(document for document in documents if not document.locked)])
    context = {
        "matter": matter,
        "parties": parties,
        "documents": documents,
        # A refusal is a falsy Decision: the template asks ``documents_locked``.
        "refusal": refusal,
        "documents_locked": any(document.locked for document in documents),
        "people": MatterUserGrant.objects.live().filter(content_object=matter).select_related("user", "permission"),
        "groups": MatterGroupGrant.objects.live().filter(content_object=matter).select_related("group", "permission"),
        "can_download": can(request.user, Action.DOWNLOAD, matter, level=level).allowed,
        "can_upload": can(request.user, Action.EDIT, matter, level=level).allowed,
        "can_manage": can(request.user, Action.MANAGE, matter, level=level).allowed,
        # The latest conflict check and its decision, kept with the matter (matters.intake_services).
        "conflict_check": matter.conflict_checks.select_related("decided_by").first(),
    }
    return render(request, "matters/detail.html", context)


def _documents_refusal(user, documents) -> Decision | None:
    """Why ``user`` may not open this matter's confidential documents, or None. Asked once for
    the page (memoised per request, and no question at all when no document is confidential)."""
    if not any(document.classification >= Classification.CONFIDENTIAL for document in documents):
        return None
    return gate_refusal(user, Classification.CONFIDENTIAL)


def document_upload(request: HttpRequest, pk) -> HttpResponse:
    matter = get_matter_for(request.user, pk, Action.EDIT, audit_as=AuditAction.DOCUMENT_UPLOAD)
    max_bytes = settings.DOCUMENT_MAX_UPLOAD_BYTES
    if request.method == "POST" and exceeds_upload_limit(request, max_bytes):
        # OversizedUploadMiddleware made sure the file part was never written anywhere.
        context = {
            "matter": matter,
            # The body is not parsed here: its declared length is all we trust of it.
            "form": DocumentUploadForm(matter=matter, max_bytes=max_bytes),
            "refusal": _("The file is larger than the %(limit)d MB limit.") % {"limit": max_bytes // 1048576},
        }
        return render(request, "matters/upload.html", context, status=413)
    form = DocumentUploadForm(request.POST or None, request.FILES or None, matter=matter, max_bytes=max_bytes)
    if request.method == "POST" and form.is_valid():
        try:
            add_document(
                actor=request.user,
                matter=matter,
                title=form.cleaned_data["title"],
                classification=form.cleaned_data["classification"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The document was added."))
            return redirect(matter)
    return render(request, "matters/upload.html", {"matter": matter, "form": form})


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def document_detail(request: HttpRequest, pk) -> HttpResponse:
    """The document's page: what it is, who added it, and its fingerprint — opened, and recorded, as a view."""
    document = get_document_for(request.user, pk, Action.VIEW, audit_as=AuditAction.DOCUMENT_VIEW)
    record_event(AuditAction.DOCUMENT_VIEW, target=document)
    download = can(request.user, Action.DOWNLOAD, document)
    context = {"document": document, "matter": document.matter, "can_download": download.allowed, "refusal": download}
    return render(request, "matters/document.html", context)


class DecryptedFileResponse(FileResponse):
    # Read a whole encrypted segment at a time rather than FileResponse's 4 KiB.
    block_size = 1024 * 1024


def document_download(request: HttpRequest, pk) -> HttpResponse:
    """The document, decrypted as it streams: 410 once its client's keys are destroyed.

    The header and first segment are authenticated before anything is sent; a
    later segment that fails cuts the download off, so the browser reports a
    failed download rather than saving altered content.
    """
    document = get_document_for(request.user, pk, Action.DOWNLOAD, audit_as=AuditAction.DOCUMENT_DOWNLOAD)
    try:
        content = document.file.open_plaintext()
    except KeyDestroyed:
        record_event(
            AuditAction.DOCUMENT_DOWNLOAD, outcome=Outcome.FAILURE, target=document, detail={"reason": "destroyed"}
        )
        return render(
            request, "matters/document_gone.html", {"document": document, "matter": document.matter}, status=410
        )
    except (TamperedFile, KeyUnavailable, OSError):
        logger.error("document %s could not be decrypted: stored file or key failed its check", document.pk)
        record_event(
            AuditAction.DOCUMENT_DOWNLOAD, outcome=Outcome.FAILURE, target=document, detail={"reason": "unreadable"}
        )
        context = {"document": document, "matter": document.matter, "unreadable": True}
        return render(request, "matters/document_gone.html", context, status=500)
    response = DecryptedFileResponse(
        content, as_attachment=True, filename=document.original_name, content_type=document.content_type
    )
    response["Content-Length"] = str(document.size)
    response["Cache-Control"] = "private, no-store"
    record_event(AuditAction.DOCUMENT_DOWNLOAD, target=document)
    return response
