"""Every change the training app makes: one function per business action, each in one
transaction and each writing its audit event (conventions: writes go through services).

Errors a person can put right are ``ValidationError`` with a message the page shows.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from access.models import Role, User
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from lawfirm.dates import add_months
from training import assignments, compliance, richtext
from training.models import (
    Assignment,
    AssignmentRule,
    Attempt,
    Choice,
    Completion,
    Course,
    CourseAttachment,
    CourseStatus,
    DocumentVersion,
    PolicyDocument,
    Question,
    QuestionKind,
    RuleTarget,
    Signature,
)

# Who runs the programme. The security officer reads the dashboard; only HR changes anything.
MANAGERS = frozenset({Role.HR.value})
READERS = frozenset({Role.HR.value, Role.SECURITY_OFFICER.value})


def may_manage(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and MANAGERS & user.role_names())


def may_read_records(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and READERS & user.role_names())


def _require_manager(actor: User) -> None:
    if not may_manage(actor):
        raise PermissionDenied


# --- Courses -------------------------------------------------------------------------------


def save_course(*, actor: User, course: Course, new_version: bool = False) -> Course:
    """Create or update a course; its standing requirements follow the form, and a published
    course reaches the people they name at once. ``new_version``: the material or questions
    changed enough that attempts from now on count as a new version."""
    _require_manager(actor)
    with transaction.atomic():
        creating = course.pk is None
        course.material = richtext.clean(course.material)
        course.material_zh = richtext.clean(course.material_zh)
        if new_version and not creating:
            course.version += 1
        course.updated_at = timezone.now()
        if creating:
            course.created_by = actor
        course.full_clean()
        course.save()
        _replace_standing_rules(course, actor)
        record_event(
            AuditAction.TRAINING_COURSE_SAVE,
            actor=actor,
            detail={"course_id": course.pk, "version": course.version, "status": course.status, "created": creating},
        )
    return course


def publish_course(*, actor: User, course: Course) -> Course:
    _require_manager(actor)
    if course.status == CourseStatus.RETIRED:
        raise ValidationError(_("A retired course cannot be published again. Create a new course instead."))
    if not course.questions.exists():
        raise ValidationError(_("Add at least one quiz question before publishing the course."))
    with transaction.atomic():
        course.status = CourseStatus.PUBLISHED
        course.updated_at = timezone.now()
        course.save(update_fields=["status", "updated_at"])
        record_event(
            AuditAction.TRAINING_COURSE_SAVE,
            actor=actor,
            detail={"course_id": course.pk, "version": course.version, "status": course.status, "created": False},
        )
        for rule in course.rules.filter(ended_at__isnull=True):
            assignments.apply_rule(rule, actor=actor)
    return course


def retire_course(*, actor: User, course: Course) -> Course:
    """A retired course is assigned to nobody new; open assignments of it are withdrawn, and
    passes of it no longer expire (nobody can retake it, so nobody may lapse on it)."""
    _require_manager(actor)
    with transaction.atomic():
        course.status = CourseStatus.RETIRED
        course.updated_at = timezone.now()
        course.save(update_fields=["status", "updated_at"])
        course.rules.filter(ended_at__isnull=True).update(ended_at=timezone.now())
        Assignment.objects.current().open().filter(course=course).update(current=False)
        Assignment.objects.current().filter(course=course, completed_at__isnull=False).update(good_through=None)
        record_event(
            AuditAction.TRAINING_COURSE_SAVE,
            actor=actor,
            detail={"course_id": course.pk, "version": course.version, "status": course.status, "created": False},
        )
    return course


def _replace_standing_rules(course: Course, actor: User) -> None:
    wanted = assignments.standing_rules_for(course)
    key = lambda rule: (rule.target, rule.role, rule.department, rule.classification)  # noqa: E731
    existing = {key(rule): rule for rule in course.rules.filter(standing=True, ended_at__isnull=True)}
    for rule in wanted:
        if key(rule) in existing:
            existing.pop(key(rule))
            continue
        rule.standing, rule.created_by = True, actor
        rule.save()
        assignments.apply_rule(rule, actor=actor)
    for stale in existing.values():
        stale.ended_at = timezone.now()
        stale.save(update_fields=["ended_at"])


def save_question(*, actor: User, question: Question, choices: list[dict]) -> Question:
    """``choices``: ``[{"text", "text_zh", "is_correct"}]`` in order, blanks already dropped."""
    _require_manager(actor)
    if len(choices) < 2:
        raise ValidationError(_("Give at least two answers."))
    right = sum(1 for choice in choices if choice["is_correct"])
    if question.kind == QuestionKind.SINGLE and right != 1:
        raise ValidationError(_("A single-choice question needs exactly one correct answer."))
    if question.kind == QuestionKind.MULTIPLE and right < 1:
        raise ValidationError(_("Mark at least one answer as correct."))
    with transaction.atomic():
        if question.pk is None:
            last = question.course.questions.order_by("-position").values_list("position", flat=True).first()
            question.position = (last or 0) + 1
        question.full_clean()
        question.save()
        _replace_choices(question, choices)
        _touch(question.course, actor)
    return question


def _replace_choices(question: Question, choices: list[dict]) -> None:
    """Edit the answers in place, by position, so their ids — which past attempts recorded — stay."""
    existing = list(question.choices.order_by("position", "pk"))
    for index, values in enumerate(choices, start=1):
        choice = existing[index - 1] if index <= len(existing) else Choice(question=question)
        choice.position = index
        for name, value in values.items():
            setattr(choice, name, value)
        choice.full_clean()
        choice.save()
    Choice.objects.filter(pk__in=[choice.pk for choice in existing[len(choices) :]]).delete()


def delete_question(*, actor: User, question: Question) -> None:
    _require_manager(actor)
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=question.course_id)
        if course.status == CourseStatus.PUBLISHED and course.questions.count() <= 1:
            raise ValidationError(
                _("A published course needs at least one question: add another before deleting this one.")
            )
        question.delete()
        _touch(course, actor)


def add_attachment(*, actor: User, course: Course, upload) -> CourseAttachment:
    _require_manager(actor)
    with transaction.atomic():
        attachment = CourseAttachment(
            course=course,
            name=upload.name[:200],
            size=upload.size,
            content_type=getattr(upload, "content_type", "") or "application/octet-stream",
            uploaded_by=actor,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        _touch(course, actor)
    return attachment


def remove_attachment(*, actor: User, attachment: CourseAttachment) -> None:
    _require_manager(actor)
    with transaction.atomic():
        course = attachment.course
        stored = attachment.file.name
        attachment.delete()
        _touch(course, actor)
        # The file goes only once the row has: a rollback keeps both.
        storage = attachment.file.storage
        transaction.on_commit(lambda: storage.delete(stored))


def _touch(course: Course, actor: User) -> None:
    course.updated_at = timezone.now()
    course.save(update_fields=["updated_at"])
    record_event(
        AuditAction.TRAINING_COURSE_SAVE,
        actor=actor,
        detail={"course_id": course.pk, "version": course.version, "status": course.status, "created": False},
    )


# --- Assigning -----------------------------------------------------------------------------


def assign_course(
    *,
    actor: User,
    course: Course,
    target: str,
    due_on: date | None,
    person: User | None = None,
    group=None,
    department: str = "",
    due_in_days: int = 14,
    role: str = "",
    classification: int | None = None,
) -> tuple[AssignmentRule, list[Assignment]]:
    """HR assigns a course to a person, a group, a department, a role, all staff or all new staff
    (or the people with access to a classification), with a due date. Members today are assigned
    at once; later members when they join (see ``sync``)."""
    _require_manager(actor)
    if course.status != CourseStatus.PUBLISHED:
        raise ValidationError(_("Publish the course before assigning it."))
    if due_on is None and target != RuleTarget.NEW_STAFF:
        raise ValidationError({"due_on": _("Give a due date.")})
    if due_on is not None and due_on < timezone.localdate():
        raise ValidationError({"due_on": _("The due date has passed. Choose today or a later day.")})
    rule = AssignmentRule(
        course=course,
        target=target,
        person=person,
        group=group,
        department=department,
        role=role,
        classification=classification,
        due_on=due_on,
        due_in_days=due_in_days,
        created_by=actor,
    )
    missing = {
        RuleTarget.PERSON: ("person", person is None),
        RuleTarget.GROUP: ("group", group is None),
        RuleTarget.DEPARTMENT: ("department", not department),
        RuleTarget.ROLE: ("role", not role),
        RuleTarget.CLASSIFICATION: ("classification", classification is None),
    }.get(target)
    if missing and missing[1]:
        raise ValidationError({missing[0]: _("Choose whom to assign the course to.")})
    with transaction.atomic():
        rule.full_clean()
        rule.save()
        made = assignments.apply_rule(rule, actor=actor)
        # The rule itself, besides an event per person: "all new staff" reaches nobody today.
        _record_rule(rule, actor, assigned_now=len(made))
    return rule, made


def _record_rule(rule: AssignmentRule, actor: User, **facts) -> None:
    record_event(
        AuditAction.TRAINING_ASSIGN,
        actor=actor,
        detail={"rule_id": rule.pk, "course_id": rule.course_id, "target": rule.target, **facts},
    )


def end_rule(*, actor: User, rule: AssignmentRule) -> None:
    """Stop assigning the course to people who join later (what was assigned stays)."""
    _require_manager(actor)
    with transaction.atomic():
        rule.ended_at = timezone.now()
        rule.save(update_fields=["ended_at"])
        _record_rule(rule, actor, ended=True)


# --- Agreements and policies ---------------------------------------------------------------


def publish_version(
    *, actor: User, document: PolicyDocument, text_en: str, text_zh: str, sign_by: date, changes: str = ""
) -> DocumentVersion:
    """A new wording of an agreement or policy: everyone must sign it again by ``sign_by``."""
    _require_manager(actor)
    if sign_by < timezone.localdate():
        raise ValidationError({"sign_by": _("The date to sign by has passed. Choose today or a later day.")})
    with transaction.atomic():
        PolicyDocument.objects.select_for_update().filter(pk=document.pk).first()
        last = document.versions.order_by("-number").values_list("number", flat=True).first() or 0
        version = DocumentVersion(
            document=document,
            number=last + 1,
            text_en=text_en.strip(),
            text_zh=text_zh.strip(),
            changes=changes,
            sign_by=sign_by,
            published_by=actor,
        )
        version.full_clean()
        version.save()
        record_event(
            AuditAction.POLICY_PUBLISH,
            actor=actor,
            detail={"document_id": document.pk, "version_id": str(version.pk), "number": version.number},
        )
        overdue = assignments.supersede_document(document)
        assignments.assign_version(version, actor=actor, overdue_since=overdue)
    return version


def normalized_name(text: str) -> str:
    """Names compared without case, spacing or full-width forms (张 三 = 张三; full-width Latin = ASCII)."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def name_matches(user: User, typed: str) -> bool:
    """Either order: "Alice Test" or "Test Alice" (Chinese names put the family name first)."""
    typed = normalized_name(typed)
    first, last = user.first_name or "", user.last_name or ""
    accepted = {normalized_name(first + last), normalized_name(last + first)} - {""}
    # Someone with no name on record signs with the name they sign in with.
    accepted = accepted or {normalized_name(user.get_username())}
    return bool(typed) and typed in accepted


def sign_version(
    *,
    user: User,
    version: DocumentVersion,
    typed_name: str,
    confirmed: bool,
    language: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Signature:
    """Sign (an agreement) or acknowledge (a policy) the version the person read in ``language``."""
    if not confirmed:
        raise ValidationError({"confirmed": _("Tick the box to confirm.")})
    if not name_matches(user, typed_name):
        raise ValidationError(
            {
                "typed_name": _("The name you typed does not match the name on your account: %(name)s.")
                % {"name": user.get_full_name() or user.get_username()}
            }
        )
    with transaction.atomic():
        latest = version.document.versions.order_by("-number").values_list("pk", flat=True).first()
        if latest != version.pk:
            raise ValidationError(_("A newer version of this document has been published. Read and sign that one."))
        # Serialises two submissions of the same form (a double click): the second finds the first.
        User.objects.select_for_update().filter(pk=user.pk).first()
        earlier = Signature.objects.filter(version=version, user=user).first()
        if earlier is not None:
            raise ValidationError(
                _("You already signed this version on %(date)s.")
                % {"date": date_format(timezone.localtime(earlier.signed_at), "DATETIME_FORMAT")}
            )
        language = "zh-hans" if language.lower().startswith("zh") else "en"
        signature = Signature.objects.create(
            version=version,
            user=user,
            typed_name=typed_name.strip()[:150],
            language=language,
            text_hash=version.hash_in(language),
            ip_address=ip_address,
            user_agent=user_agent[:256],
        )
        assignment = Assignment.objects.select_for_update().filter(user=user, version=version).first()
        if assignment is not None:
            assignment.completed_at, assignment.signature, assignment.good_through = (
                signature.signed_at,
                signature,
                None,
            )
            assignment.save(update_fields=["completed_at", "signature", "good_through"])
        compliance.forget(user)
        action = AuditAction.AGREEMENT_SIGN if version.document.is_agreement else AuditAction.POLICY_ACKNOWLEDGE
        record_event(
            action,
            actor=user,
            detail={
                "document_id": version.document_id,
                "version_id": str(version.pk),
                "number": version.number,
                "language": language,
                "text_hash": signature.text_hash,
            },
        )
    return signature


# --- Quizzes -------------------------------------------------------------------------------


def start_attempt(*, user: User, course: Course) -> Attempt:
    """The attempt a quiz page submits to; an unsubmitted one of the same version is reused."""
    if course.status != CourseStatus.PUBLISHED:
        raise Http404
    if not course.questions.exists():
        raise ValidationError(_("This course has no quiz yet."))
    open_attempt = Attempt.objects.filter(
        user=user, course=course, course_version=course.version, submitted_at__isnull=True
    ).first()
    return open_attempt or Attempt.objects.create(user=user, course=course, course_version=course.version)


def submit_attempt(*, user: User, attempt_id, answers: dict[int, list[int]]) -> Attempt:
    """Score the attempt once. ``answers``: question id → the choice ids ticked.

    A second submission of the same attempt (a double click, the back button) is refused
    with the first result standing; so is one taken on a version that has since changed.
    """
    try:
        attempt_id = uuid.UUID(str(attempt_id))
    except ValueError:
        raise Http404 from None
    answers = _answer_ids(answers)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().filter(pk=attempt_id, user=user).first()
        if attempt is None:
            raise Http404
        if attempt.submitted_at is not None:
            raise ValidationError(
                _("This quiz was already submitted: your score was %(score)d%%. Start a new attempt to try again.")
                % {"score": attempt.score or 0}
            )
        course = Course.objects.select_for_update().get(pk=attempt.course_id)
        if course.version != attempt.course_version or course.status != CourseStatus.PUBLISHED:
            raise ValidationError(_("The course changed while you were taking the quiz. Please start again."))
        questions = list(course.questions.prefetch_related("choices"))
        if not questions:
            raise ValidationError(_("This course has no quiz yet."))
        unanswered = [q for q in questions if not answers.get(q.pk)]
        if unanswered:
            raise ValidationError(_("Answer every question before submitting."))
        correct = sum(1 for q in questions if set(answers[q.pk]) == {c.pk for c in q.choices.all() if c.is_correct})
        attempt.answers = {str(q.pk): sorted(answers[q.pk]) for q in questions}
        attempt.correct, attempt.total = correct, len(questions)
        attempt.score = correct * 100 // len(questions)
        attempt.passed = attempt.score >= course.passing_score
        attempt.submitted_at = timezone.now()
        attempt.save(update_fields=["answers", "correct", "total", "score", "passed", "submitted_at"])
        record_event(
            AuditAction.TRAINING_ATTEMPT,
            actor=user,
            outcome=Outcome.SUCCESS,
            detail={
                "course_id": course.pk,
                "course_version": course.version,
                "attempt_id": str(attempt.pk),
                "score": attempt.score,
                "passed": attempt.passed,
            },
        )
        if attempt.passed:
            _complete(attempt, course)
    return attempt


def _answer_ids(answers: dict) -> dict[int, list[int]]:
    """``answers`` with whole-number ids (a form may give them as text); what is not an id
    counts as no answer to that question (or a wrong one), never as a crash."""
    cleaned: dict[int, list[int]] = {}
    for question, choices in (answers or {}).items():
        try:
            key = int(question)
        except (TypeError, ValueError):
            continue
        ticked = choices if isinstance(choices, list | tuple | set) else [choices]
        cleaned[key] = [int(c) for c in ticked if isinstance(c, int) or (isinstance(c, str) and c.isdigit())]
    return cleaned


def _complete(attempt: Attempt, course: Course) -> Completion:
    completed_at = attempt.submitted_at
    expires_on = (
        add_months(timezone.localdate(completed_at), course.recurrence_months) if course.recurrence_months else None
    )
    completion = Completion.objects.create(
        user=attempt.user,
        course=course,
        course_version=attempt.course_version,
        attempt=attempt,
        score=attempt.score,
        completed_at=completed_at,
        expires_on=expires_on,
    )
    good_through = expires_on - timedelta(days=1) if expires_on else None
    assignment = Assignment.objects.select_for_update().current().filter(user=attempt.user, course=course).first()
    if assignment is not None:
        assignment.completed_at, assignment.completion, assignment.good_through = completed_at, completion, good_through
        assignment.save(update_fields=["completed_at", "completion", "good_through"])
    compliance.forget(attempt.user)
    record_event(
        AuditAction.TRAINING_COMPLETE,
        actor=attempt.user,
        detail={
            "course_id": course.pk,
            "course_version": attempt.course_version,
            "completion_id": str(completion.pk),
            "assignment_id": assignment.pk if assignment else None,
            "expires_on": expires_on.isoformat() if expires_on else None,
        },
    )
    return completion
