"""A member of staff's own training: what they owe, the courses, the quizzes, the certificates.

Thin views over ``training.services``. What a person may not see answers 404:
a draft or retired course (except to HR, who previews it), someone else's
attempt or certificate (except to the people who read training records).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from access.models import Role
from training import compliance, services
from training.learning_forms import QuizForm
from training.models import Assignment, Attempt, Completion, Course, CourseAttachment, Signature

logger = logging.getLogger(__name__)

# How many of one's past attempts the page lists (newest first).
ATTEMPTS_SHOWN = 50


def _staff_only(user) -> None:
    """Vendor users owe the firm no training (their firm's agreement covers them): its pages are not theirs."""
    if user.has_role(Role.VENDOR) and not services.may_manage(user):
        raise Http404


def _course_for(user, pk) -> Course:
    """A published course, or any course for HR (a preview); else 404."""
    _staff_only(user)
    course = Course.objects.filter(pk=pk).first()
    if course is None or not (course.is_published or services.may_manage(user)):
        raise Http404
    return course


def _readable_by(user, owner_id: int) -> bool:
    return owner_id == user.pk or services.may_read_records(user)


def my_training(request: HttpRequest) -> HttpResponse:
    user = request.user
    standing = compliance.standing_of(user)
    today = timezone.localdate()
    completions = list(Completion.objects.filter(user=user).select_related("course"))
    for completion in completions:
        completion.has_expired = completion.expires_on is not None and completion.expires_on <= today
    owed = [item for item in standing.to_do if item.is_open]
    for item in owed:
        item.overdue = item.good_through is not None and item.good_through < today
    context = {
        "standing": standing,
        "owed": owed,
        "renewing": [item for item in standing.to_do if not item.is_open],
        "today": today,
        "completions": completions,
        "signatures": Signature.objects.filter(user=user).select_related("version__document"),
        "attempts": Attempt.objects.filter(user=user).select_related("course")[:ATTEMPTS_SHOWN],
    }
    return render(request, "training/mine.html", context)


def course_detail(request: HttpRequest, pk) -> HttpResponse:
    course = _course_for(request.user, pk)
    assignment = (
        Assignment.objects.current().filter(user=request.user, course=course).select_related("completion").first()
    )
    good_through = assignment.good_through if assignment else None
    context = {
        "course": course,
        "attachments": course.attachments.all(),
        "assignment": assignment,
        "overdue": good_through is not None and good_through < timezone.localdate(),
        "has_quiz": course.questions.exists(),
        "preview": not course.is_published,
        "can_manage": services.may_manage(request.user),
    }
    return render(request, "training/course.html", context)


def attachment_download(request: HttpRequest, pk) -> HttpResponse:
    _staff_only(request.user)
    attachment = CourseAttachment.objects.select_related("course").filter(pk=pk).first()
    if attachment is None or not (attachment.course.is_published or services.may_manage(request.user)):
        raise Http404
    try:
        content = attachment.file.open("rb")
    except OSError:
        logger.error("course attachment %s is missing from storage", attachment.pk)
        raise Http404 from None
    response = FileResponse(content, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def quiz(request: HttpRequest, pk) -> HttpResponse:
    course = _course_for(request.user, pk)
    if request.method != "POST":
        return _start_quiz(request, course)
    questions = list(course.questions.prefetch_related("choices"))
    form = QuizForm(request.POST, questions=questions)
    if not form.is_valid():
        if form.has_error("attempt"):
            # A tampered or lost hidden field: the answers stay ticked, on a fresh attempt.
            form = _with_attempt(form, _open_attempt(request, course))
        return _render_quiz(request, course, form, status=400)
    attempt_id = form.cleaned_data["attempt"]
    if not Attempt.objects.filter(pk=attempt_id, user=request.user, course=course).exists():
        raise Http404
    try:
        attempt = services.submit_attempt(user=request.user, attempt_id=attempt_id, answers=form.answers())
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _render_quiz(request, course, form, attempt=Attempt.objects.filter(pk=attempt_id).first())
    return redirect(attempt)


def _open_attempt(request: HttpRequest, course: Course) -> Attempt | None:
    try:
        return services.start_attempt(user=request.user, course=course)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None


def _start_quiz(request: HttpRequest, course: Course) -> HttpResponse:
    attempt = _open_attempt(request, course)
    if attempt is None:
        return redirect(course)
    questions = list(course.questions.prefetch_related("choices"))
    form = QuizForm(initial={"attempt": attempt.pk}, questions=questions)
    return _render_quiz(request, course, form)


def _with_attempt(form: QuizForm, attempt: Attempt | None) -> QuizForm:
    """The same bound form, its hidden field carrying ``attempt`` (or nothing, when none could open)."""
    data = form.data.copy()
    data["attempt"] = str(attempt.pk) if attempt else ""
    form.data = data
    return form


def _render_quiz(
    request: HttpRequest, course: Course, form: QuizForm, *, attempt: Attempt | None = None, status: int = 200
) -> HttpResponse:
    """The quiz page; ``attempt`` set after a refusal, so a finished attempt links to its result."""
    finished = attempt is not None and attempt.submitted_at is not None
    stale = attempt is not None and not finished and attempt.course_version != course.version
    context = {"course": course, "form": form, "finished_attempt": attempt if finished else None, "stale": stale}
    return render(request, "training/quiz.html", context, status=status)


def attempt_detail(request: HttpRequest, pk) -> HttpResponse:
    attempt = Attempt.objects.select_related("course", "user").filter(pk=pk).first()
    if attempt is None or not _readable_by(request.user, attempt.user_id):
        raise Http404
    completion = Completion.objects.filter(attempt=attempt).first() if attempt.passed else None
    context = {
        "attempt": attempt,
        "course": attempt.course,
        "completion": completion,
        "results": _question_results(attempt),
        "own": attempt.user_id == request.user.pk,
    }
    return render(request, "training/attempt.html", context)


def _question_results(attempt: Attempt) -> list[tuple[str, bool]]:
    """Each question answered and whether it was answered right — not which answer was right,
    so the page does not give the quiz away. Only while the course is still the version taken:
    a later version's questions are not the ones answered."""
    course = attempt.course
    if attempt.submitted_at is None or attempt.course_version != course.version:
        return []
    results = []
    for question in course.questions.prefetch_related("choices"):
        given = attempt.answers.get(str(question.pk))
        if given is None:
            continue
        right = {choice.pk for choice in question.choices.all() if choice.is_correct}
        results.append((question.display_text, set(given) == right))
    return results


def certificate(request: HttpRequest, pk) -> HttpResponse:
    completion = Completion.objects.select_related("course", "user").filter(pk=pk).first()
    if completion is None or not _readable_by(request.user, completion.user_id):
        raise Http404
    expires_on = completion.expires_on
    context = {
        "completion": completion,
        "course": completion.course,
        "person": completion.user,
        # expires_on is the first day the pass no longer counts.
        "valid_until": expires_on - timedelta(days=1) if expires_on else None,
        "expired": expires_on is not None and expires_on <= timezone.localdate(),
    }
    return render(request, "training/certificate.html", context)
