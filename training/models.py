"""Training, confidentiality agreements and policy acknowledgements.

What a person owes is an :class:`Assignment`: a course to pass, or a version of
an agreement or policy to sign, by a due date. Completing it keeps the person in
good standing until the completion expires (a course's recurrence) or a new
version replaces what they signed. A person's compliance status — compliant,
due soon, lapsed — is read from their *current* assignments alone (one indexed
query, ``training.compliance``), and CONFIDENTIAL and higher matters are open
only to people who are not lapsed.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from access.models import Department, Role
from matters.models import Classification


def in_language(english: str, chinese: str) -> str:
    """The Chinese text when Chinese is the active language and there is one, else the English."""
    language = (translation.get_language() or "").lower()
    return chinese if chinese and language.startswith("zh") else english


class CourseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Course(models.Model):
    """A training course: material to read and a quiz to pass.

    ``version`` counts revisions of the material and questions; attempts and
    completions record the version they were taken on. The ``required_*``
    fields say who must take the course without anyone assigning it (roles,
    departments, people holding access at or above a classification); HR's own
    assignments are :class:`AssignmentRule` rows.
    """

    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("title in Chinese"), max_length=200, blank=True)
    # Sanitized HTML (training.richtext): firm content, not client data.
    material = models.TextField(_("material"), blank=True)
    material_zh = models.TextField(_("material in Chinese"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    passing_score = models.PositiveSmallIntegerField(
        _("passing score (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    recurrence_months = models.PositiveSmallIntegerField(
        _("repeat every (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Leave empty if a pass never expires."),
    )
    required_roles = models.JSONField(_("required for roles"), default=list, blank=True)
    required_departments = models.JSONField(_("required for departments"), default=list, blank=True)
    required_from_classification = models.PositiveSmallIntegerField(
        _("required for access to"),
        choices=Classification,
        null=True,
        blank=True,
        help_text=_("People holding access to matters of this classification or higher must take the course."),
    )
    onboarding = models.BooleanField(
        _("part of the onboarding bundle"), default=False, help_text=_("Every new member of staff is assigned it.")
    )
    status = models.CharField(_("status"), max_length=16, choices=CourseStatus, default=CourseStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.display_title

    def get_absolute_url(self) -> str:
        return reverse("training:course", args=[self.pk])

    @property
    def display_title(self) -> str:
        return in_language(self.title, self.title_zh)

    @property
    def display_material(self) -> str:
        return in_language(self.material, self.material_zh)

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    def required_role_labels(self) -> list[str]:
        return [str(Role(value).label) for value in self.required_roles if value in Role.values]

    def required_department_labels(self) -> list[str]:
        return [str(Department(value).label) for value in self.required_departments if value in Department.values]


def _attachment_path(instance: CourseAttachment, filename: str) -> str:
    return f"{instance.course_id}/{uuid.uuid4().hex}"


def _attachment_storage():
    """Course files: never under a public URL, served by the attachment view to signed-in staff."""
    from django.core.files.storage import storages

    return storages["training"]


class CourseAttachment(models.Model):
    """A file that belongs to a course's material (slides, a handout); served only to signed-in staff."""

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=_attachment_path, storage=_attachment_storage)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")


class BilingualText:
    """A question's or an answer's text in the reader's language (``text``, ``text_zh``)."""

    def __str__(self) -> str:
        return self.display_text

    @property
    def display_text(self) -> str:
        return in_language(self.text, self.text_zh)


class Question(BilingualText, models.Model):
    """A quiz question. Single choice has one right answer; multiple choice is right
    only when exactly the right choices are ticked (no partial credit)."""

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="questions")
    text = models.TextField(_("question"))
    text_zh = models.TextField(_("question in Chinese"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind, default=QuestionKind.SINGLE)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "pk"]


class Choice(BilingualText, models.Model):
    question = models.ForeignKey(Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("answer"), max_length=500)
    text_zh = models.CharField(_("answer in Chinese"), max_length=500, blank=True)
    is_correct = models.BooleanField(_("correct"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["position", "pk"]


class DocumentKind(models.TextChoices):
    AGREEMENT = "agreement", _("Confidentiality agreement")
    POLICY = "policy", _("Security policy")


class PolicyDocument(models.Model):
    """A confidentiality agreement or a security policy: every member of staff must
    sign (agreement) or acknowledge (policy) its current version."""

    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind)
    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("title in Chinese"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("agreement or policy")
        verbose_name_plural = _("agreements and policies")
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return in_language(self.title, self.title_zh)

    @property
    def is_agreement(self) -> bool:
        return self.kind == DocumentKind.AGREEMENT

    def current_version(self) -> DocumentVersion | None:
        return self.versions.order_by("-number").first()


def text_hash(text: str) -> str:
    """SHA-256 of the exact text shown to the signer (UTF-8), as hex."""
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentVersion(models.Model):
    """One published wording of an agreement or policy, in English and Chinese.

    Immutable once published: a signature records the hash of the exact text
    the signer read, and a change is a new version, which everyone signs again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(
        PolicyDocument, verbose_name=_("document"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    text_en = models.TextField(_("text in English"))
    text_zh = models.TextField(_("text in Chinese"))
    changes = models.CharField(_("what changed"), max_length=500, blank=True)
    sign_by = models.DateField(_("sign by"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    hash_en = models.CharField(_("hash of the English text"), max_length=64, editable=False)
    hash_zh = models.CharField(_("hash of the Chinese text"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("version")
        verbose_name_plural = _("versions")
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="one_version_number_per_document")]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    def save(self, *args, **kwargs):
        self.hash_en, self.hash_zh = text_hash(self.text_en), text_hash(self.text_zh)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("training:sign", args=[self.pk])

    def text_in(self, language: str) -> str:
        return self.text_zh if language.lower().startswith("zh") else self.text_en

    def hash_in(self, language: str) -> str:
        return self.hash_zh if language.lower().startswith("zh") else self.hash_en


class Signature(models.Model):
    """A person's electronic signature (agreement) or acknowledgement (policy) of one version:
    the name they typed, their confirmation, when, from where, and the hash of the text they read."""

    version = models.ForeignKey(
        DocumentVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="signatures"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="signatures"
    )
    typed_name = models.CharField(_("typed name"), max_length=150)
    language = models.CharField(_("language read"), max_length=10)
    text_hash = models.CharField(_("hash of the text read"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=256, blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-signed_at"]
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="one_signature_per_version")]

    def __str__(self) -> str:
        return f"{self.user} — {self.version}"

    @property
    def matches_text(self) -> bool:
        """Whether the stored hash is still that of the version's text in the language read."""
        return self.text_hash == self.version.hash_in(self.language)


class RuleTarget(models.TextChoices):
    PERSON = "person", _("A person")
    GROUP = "group", _("A group or team")
    DEPARTMENT = "department", _("A department")
    ROLE = "role", _("A role")
    ALL_STAFF = "all_staff", _("All staff")
    NEW_STAFF = "new_staff", _("All new staff")
    CLASSIFICATION = "classification", _("People with access to a classification")


class AssignmentRule(models.Model):
    """Who must take a course: HR's assignment (to a person, a group, a department, all
    staff or all new staff, with a due date), or a course's standing requirement.

    Its members today receive an :class:`Assignment` at once; people who join the
    group, department or role later, or join the firm (``NEW_STAFF``), receive one
    when they join (``training.assignments.sync``), due ``due_in_days`` later or on
    ``due_on``, whichever is later.
    """

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="rules")
    target = models.CharField(_("assign to"), max_length=16, choices=RuleTarget)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.CharField(_("department"), max_length=32, choices=Department, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role, blank=True)
    classification = models.PositiveSmallIntegerField(
        _("classification"), choices=Classification, null=True, blank=True
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    due_in_days = models.PositiveSmallIntegerField(_("days allowed to people who join later"), default=14)
    # A course's standing requirement (roles, departments, classification on the course form).
    standing = models.BooleanField(_("standing requirement"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.course} → {self.get_target_display()}"

    def target_label(self) -> str:
        detail = {
            RuleTarget.PERSON: lambda: str(self.person),
            RuleTarget.GROUP: lambda: self.group.name if self.group else "",
            RuleTarget.DEPARTMENT: lambda: self.get_department_display(),
            RuleTarget.ROLE: lambda: self.get_role_display(),
            RuleTarget.CLASSIFICATION: lambda: self.get_classification_display(),
        }.get(self.target)
        label = str(self.get_target_display())
        return f"{label}: {detail()}" if detail else label


class AssignmentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(current=True)

    def open(self):
        return self.filter(completed_at__isnull=True)

    def overdue(self, today: date | None = None):
        return self.filter(current=True, good_through__lt=today or timezone.localdate())


class Assignment(models.Model):
    """What one person owes: a course to pass, or a document version to sign, by ``due_on``.

    ``current`` marks the one assignment per person and course (or document) that
    counts; a recurrence or a new version makes the next one current and keeps
    the old as history. ``good_through`` is the last day the person is in good
    standing on it: the due date while open, then the day before the completion
    expires (empty: for good). Compliance reads only these two columns.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="assignments"
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    version = models.ForeignKey(
        DocumentVersion,
        verbose_name=_("document version"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    rule = models.ForeignKey(
        AssignmentRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    due_on = models.DateField(_("due on"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completion = models.ForeignKey(
        "training.Completion",
        verbose_name=_("completion"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signature = models.ForeignKey(
        Signature, verbose_name=_("signature"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    good_through = models.DateField(_("in good standing through"), null=True, blank=True)
    current = models.BooleanField(_("current"), default=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["due_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=False, version__isnull=True) | Q(course__isnull=True, version__isnull=False),
                name="assignment_is_a_course_or_a_document",
            ),
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=Q(current=True, course__isnull=False),
                name="one_current_assignment_per_course",
            ),
            models.UniqueConstraint(
                fields=["user", "version"], condition=Q(version__isnull=False), name="one_assignment_per_version"
            ),
        ]
        indexes = [
            # Compliance: a person's current assignments and their standing, read from the index alone.
            models.Index(fields=["user", "good_through"], condition=Q(current=True), name="assignment_standing"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.item_title}"

    @property
    def item_title(self) -> str:
        return self.course.display_title if self.course_id else self.version.document.display_title

    @property
    def is_open(self) -> bool:
        return self.completed_at is None

    def item_url(self) -> str:
        return self.course.get_absolute_url() if self.course_id else self.version.get_absolute_url()


class Attempt(models.Model):
    """One try at a course's quiz: opened when the quiz page is shown, scored once when submitted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="attempts"
    )
    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="attempts")
    course_version = models.PositiveIntegerField(_("course version"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # {question id: [choice ids]} as submitted.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    correct = models.PositiveSmallIntegerField(_("correct answers"), null=True, blank=True)
    total = models.PositiveSmallIntegerField(_("questions"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score (%)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.user} — {self.course} ({self.started_at:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("training:attempt", args=[self.pk])


class Completion(models.Model):
    """A pass: the course, the version, the score, and until when it counts. Its page is the certificate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="completions"
    )
    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="completions")
    course_version = models.PositiveIntegerField(_("course version"))
    attempt = models.OneToOneField(
        Attempt, verbose_name=_("attempt"), on_delete=models.PROTECT, related_name="completion"
    )
    score = models.PositiveSmallIntegerField(_("score (%)"))
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)
    # The first day the pass no longer counts (empty: never).
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        verbose_name = _("completion")
        verbose_name_plural = _("completions")
        ordering = ["-completed_at"]

    def __str__(self) -> str:
        return f"{self.user} — {self.course}"

    def get_absolute_url(self) -> str:
        return reverse("training:certificate", args=[self.pk])


class ReminderStage(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    DUE_14 = "due_14", _("Due in 14 days")
    DUE_3 = "due_3", _("Due in 3 days")
    DUE_0 = "due_0", _("Due today")
    LAPSED = "lapsed", _("Overdue")
    ESCALATED = "escalated", _("Escalated to the manager")


class Reminder(models.Model):
    """That a reminder stage was sent for an assignment: the unique pair makes each stage go once."""

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("assignment"), on_delete=models.CASCADE, related_name="reminders"
    )
    stage = models.CharField(_("stage"), max_length=16, choices=ReminderStage)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [models.UniqueConstraint(fields=["assignment", "stage"], name="one_reminder_per_stage")]

    def __str__(self) -> str:
        return f"{self.assignment} — {self.get_stage_display()}"
