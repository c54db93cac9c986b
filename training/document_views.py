"""Reading and signing an agreement or policy version; HR's agreement and policy pages.

What is signed is what was shown: the version's text in the language the page
displayed (``?lang=en|zh-hans``, else the interface language), whose hash the
signature records. HR's pages answer 404 to everyone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from access.models import Role
from audit.events import client_ip
from training import services
from training.document_forms import DocumentForm, SignForm, VersionForm, reading_language
from training.models import Assignment, DocumentVersion, PolicyDocument, Signature


def _add_errors(form, exc: ValidationError) -> None:
    """A service's error under the field it names (when the form shows that field), else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Reading and signing ---------------------------------------------------------------------


def sign(request: HttpRequest, pk) -> HttpResponse:
    user = request.user
    if user.has_role(Role.VENDOR) and not services.may_manage(user):
        raise Http404
    version = DocumentVersion.objects.select_related("document").filter(pk=pk).first()
    if version is None:
        raise Http404
    kind = version.document.kind
    if request.method == "POST":
        form = SignForm(request.POST, kind=kind)
        if form.is_valid():
            try:
                services.sign_version(
                    user=user,
                    version=version,
                    typed_name=form.cleaned_data["typed_name"],
                    confirmed=form.cleaned_data["confirmed"],
                    language=form.cleaned_data["language"],
                    ip_address=client_ip(request),
                    user_agent=request.headers.get("user-agent", ""),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                done = (
                    _("You signed “%(title)s”.")
                    if version.document.is_agreement
                    else _("You acknowledged “%(title)s”.")
                )
                messages.success(request, done % {"title": version.document.display_title})
                return redirect("training:mine")
        language = reading_language(request.POST.get("language"))
    else:
        language = reading_language(request.GET.get("lang") or translation.get_language())
        form = SignForm(initial={"language": language}, kind=kind)
    return render(request, "training/sign.html", _sign_context(user, version, form, language))


def _sign_context(user, version: DocumentVersion, form: SignForm, language: str) -> dict:
    latest = version.document.current_version()
    return {
        "version": version,
        "document": version.document,
        "form": form,
        "language": language,
        "other_language": "en" if language == "zh-hans" else "zh-hans",
        "text": version.text_in(language),
        "text_hash": version.hash_in(language),
        "latest": latest,
        "is_latest": latest is not None and latest.pk == version.pk,
        "signature": Signature.objects.filter(version=version, user=user).first(),
        "assignment": Assignment.objects.filter(version=version, user=user).first(),
    }


# --- HR: agreements and policies -------------------------------------------------------------


def _require_manager(user) -> None:
    if not services.may_manage(user):
        raise Http404


def _count_of(model, **lookups) -> Coalesce:
    """How many rows of ``model`` point at the version: a subquery per version, so the two
    counts never multiply each other's rows as two joins would."""
    rows = model.objects.filter(version=OuterRef("pk"), **lookups).order_by().values("version")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), Value(0), output_field=IntegerField())


def document_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    versions = (
        DocumentVersion.objects.select_related("published_by")
        .annotate(signed_count=_count_of(Signature), asked_count=_count_of(Assignment))
        .order_by("-number")
    )
    documents = PolicyDocument.objects.prefetch_related(Prefetch("versions", queryset=versions))
    return render(request, "training/manage/documents.html", {"documents": documents, "today": timezone.localdate()})


def document_new(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    form = DocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A document with no version asks nothing of anyone: publishing its first version does.
        document = form.save()
        messages.success(request, _("Now write the first version of “%(title)s”.") % {"title": document.display_title})
        return redirect("training:version_new", pk=document.pk)
    return render(request, "training/manage/document_form.html", {"form": form})


def version_new(request: HttpRequest, pk) -> HttpResponse:
    _require_manager(request.user)
    document = PolicyDocument.objects.filter(pk=pk).first()
    if document is None:
        raise Http404
    latest = document.current_version()
    initial = {"text_en": latest.text_en, "text_zh": latest.text_zh} if latest else {}
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.publish_version(actor=request.user, document=document, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Version %(number)d of “%(title)s” is published: everyone is asked to sign it.")
                % {"number": version.number, "title": document.display_title},
            )
            return redirect("training:documents")
    return render(request, "training/manage/version_form.html", {"form": form, "document": document, "latest": latest})
