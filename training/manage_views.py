"""HR's course pages: courses, their material, attachments and quiz, publishing, and assigning.

Thin views over ``training.services``. Only HR (``services.may_manage``) reaches
them; everyone else — lawyers, the security officer, administrators, superusers —
gets 404, for GET and POST alike.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from matters.uploads import exceeds_upload_limit
from training import services
from training.manage_forms import AssignForm, AttachmentForm, CourseForm, QuestionForm, too_large
from training.models import (
    Assignment,
    AssignmentRule,
    Course,
    CourseAttachment,
    Question,
    RuleTarget,
)


def hr_only(view):
    """404 unless the person runs the training programme: the pages' existence is not advertised."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not services.may_manage(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def hr_post(view):
    """An HR action: 404 for anyone else (whatever the method), 405 for HR's GET."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not services.may_manage(request.user):
            raise Http404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, *args, **kwargs)

    return wrapper


def _add_errors(form, exc: ValidationError) -> None:
    """A service's refusal, on the field it names when the form has one, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _count(queryset: QuerySet) -> Coalesce:
    """The number of ``queryset``'s rows that belong to the outer course, as a subquery."""
    counted = queryset.filter(course=OuterRef("pk")).order_by().values("course").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- Courses -------------------------------------------------------------------------------


@hr_only
def course_list(request: HttpRequest) -> HttpResponse:
    # One query: the counts are subqueries, never a query per row.
    current = Assignment.objects.current()
    courses = Course.objects.annotate(
        question_count=_count(Question.objects.all()),
        assigned_count=_count(current),
        completed_count=_count(current.filter(completed_at__isnull=False)),
    ).order_by("status", "title")
    return render(request, "training/manage/courses.html", {"courses": courses, "section": "courses"})


@hr_only
def course_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk) if pk is not None else Course()
    form = CourseForm(request.POST or None, instance=course)
    # The page's heading stays the saved title while the form is being corrected.
    saved_title = course.display_title if course.pk else ""
    if request.method == "POST" and form.is_valid():
        try:
            course = services.save_course(
                actor=request.user, course=form.save(commit=False), new_version=form.cleaned_data.get("new_version")
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The course was saved."))
            return redirect("training:course_edit", pk=course.pk)
    return _render_course_form(request, course, form=form, saved_title=saved_title)


def _render_course_form(
    request: HttpRequest,
    course: Course,
    *,
    form: CourseForm | None = None,
    attachment_form: AttachmentForm | None = None,
    attachment_refusal: str = "",
    saved_title: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "course": course,
        "form": form or CourseForm(instance=course),
        "saved_title": course.display_title if saved_title is None else saved_title,
        "section": "courses",
    }
    if course.pk:
        rules = course.rules.select_related("person", "group", "created_by").annotate(
            assigned_count=Count("assignments", filter=Q(assignments__current=True))
        )
        context |= {
            "questions": course.questions.prefetch_related("choices"),
            "attachments": course.attachments.all(),
            "attachment_form": attachment_form or AttachmentForm(),
            "attachment_refusal": attachment_refusal,
            "rules": rules.order_by("ended_at", "-created_at"),
        }
    return render(request, "training/manage/course_form.html", context, status=status)


@hr_post
def course_publish(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    try:
        services.publish_course(actor=request.user, course=course)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The course is published: the people it is assigned to can take it now."))
    return redirect("training:course_edit", pk=course.pk)


@hr_post
def course_retire(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    services.retire_course(actor=request.user, course=course)
    messages.success(
        request, _("The course is retired: nobody is assigned it any more, and open assignments are withdrawn.")
    )
    return redirect("training:course_edit", pk=course.pk)


# --- Questions -----------------------------------------------------------------------------


@hr_only
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """``question_new`` names the course; ``question_edit`` names the question."""
    if request.resolver_match.url_name == "question_new":
        question = Question(course=get_object_or_404(Course, pk=pk))
    else:
        question = get_object_or_404(Question.objects.select_related("course"), pk=pk)
    course = question.course
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_question(actor=request.user, question=form.instance, choices=form.choices())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The question was saved."))
            return redirect("training:course_edit", pk=course.pk)
    context = {"course": course, "question": question, "form": form, "section": "courses"}
    return render(request, "training/manage/question_form.html", context)


@hr_post
def question_delete(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(Question.objects.select_related("course"), pk=pk)
    course = question.course
    try:
        services.delete_question(actor=request.user, question=question)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The question was deleted."))
    return redirect("training:course_edit", pk=course.pk)


# --- Attachments ---------------------------------------------------------------------------


@hr_post
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    max_bytes = settings.TRAINING_ATTACHMENT_MAX_BYTES
    # A body larger than any attachment may be is refused on its declared length, the file unread.
    # OversizedUploadMiddleware drops files past the documents' limit before we see them; such a
    # request without its file is refused the same way rather than told to choose a file.
    discarded = "file" not in request.FILES and exceeds_upload_limit(request, settings.DOCUMENT_MAX_UPLOAD_BYTES)
    if exceeds_upload_limit(request, max_bytes) or discarded:
        refusal = too_large(min(max_bytes, settings.DOCUMENT_MAX_UPLOAD_BYTES))
        return _render_course_form(request, course, attachment_refusal=refusal, status=413)
    form = AttachmentForm(request.POST, request.FILES, max_bytes=max_bytes)
    if form.is_valid():
        try:
            attachment = services.add_attachment(actor=request.user, course=course, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was attached.") % {"name": attachment.name})
            return redirect("training:course_edit", pk=course.pk)
    return _render_course_form(request, course, attachment_form=form, status=400)


@hr_post
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(CourseAttachment.objects.select_related("course"), pk=pk)
    course, name = attachment.course, attachment.name
    services.remove_attachment(actor=request.user, attachment=attachment)
    messages.success(request, _("%(name)s was removed.") % {"name": name})
    return redirect("training:course_edit", pk=course.pk)


# --- Assigning -----------------------------------------------------------------------------


@hr_only
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    form = AssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule, made = services.assign_course(actor=request.user, course=course, **form.service_kwargs())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _assigned_message(rule, len(made)))
            return redirect("training:course_edit", pk=course.pk)
    context = {"course": course, "form": form, "section": "courses", "published": course.is_published}
    return render(request, "training/manage/assign.html", context)


def _assigned_message(rule: AssignmentRule, count: int) -> str:
    if rule.target == RuleTarget.PERSON:
        if not count:
            return _("%(name)s already has this course assigned.") % {"name": rule.person}
        return _("%(name)s was assigned the course, due %(due)s.") % {
            "name": rule.person,
            "due": date_format(rule.due_on, "DATE_FORMAT"),
        }
    now = ngettext(
        "%(count)d person was assigned the course now.", "%(count)d people were assigned the course now.", count
    ) % {"count": count}
    later = ngettext(
        "People who join later are assigned it when they join, with %(days)d day to complete it.",
        "People who join later are assigned it when they join, with %(days)d days to complete it.",
        rule.due_in_days,
    ) % {"days": rule.due_in_days}
    return f"{now} {later}"


@hr_post
def rule_end(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule.objects.select_related("course"), pk=pk)
    if rule.standing:
        # Ending it here would not last: the course form's requirements recreate it on the next save.
        messages.error(request, _("This rule comes from the course's requirements: change them on the course form."))
    elif rule.ended_at is not None:
        messages.info(request, _("This assignment already stopped reaching people who join later."))
    else:
        services.end_rule(actor=request.user, rule=rule)
        messages.success(
            request, _("People who join later are no longer assigned the course; what was assigned stays.")
        )
    return redirect("training:course_edit", pk=rule.course_id)
