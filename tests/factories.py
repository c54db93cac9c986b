"""factory_boy factories and small builders shared by every test."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import GrantLevel, Role, User
from access.services import grant_matter_access
from matters.models import Classification, Client, Document, Matter, Party, PartyRole, PracticeArea
from matters.services import add_document

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(Group.objects.get_or_create(name=Role(role).value)[0] for role in extracted))
        if create:
            self.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    code = factory.Sequence(lambda n: f"C-{n:05d}")
    name = factory.Sequence(lambda n: f"Client Company {n} Ltd.")


class MatterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Matter

    number = factory.Sequence(lambda n: f"2026-T-{n:05d}")
    title = factory.Sequence(lambda n: f"Confidential matter title {n}")
    client = factory.SubFactory(ClientFactory)
    practice_area = PracticeArea.LITIGATION
    classification = Classification.CONFIDENTIAL


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    matter = factory.SubFactory(MatterFactory)
    name = factory.Sequence(lambda n: f"Adverse Party {n}")
    role = PartyRole.ADVERSE


def enroll(user: User) -> TOTPDevice:
    """Give ``user`` a confirmed authenticator."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def grant(grantee: User | Group, matter: Matter, level: GrantLevel = GrantLevel.VIEW, expires_at=None):
    kwargs = {"group": grantee} if isinstance(grantee, Group) else {"user": grantee}
    return grant_matter_access(actor=None, matter=matter, level=level, reason="test", expires_at=expires_at, **kwargs)


def make_document(
    matter: Matter,
    *,
    title: str = "Witness statement",
    content: bytes = b"%PDF-1.4 test\n",
    name: str = "statement.pdf",
    classification=None,
    uploader: User | None = None,
) -> Document:
    """A document filed through the real service (the uploader needs no grant here: actor checks are the view's)."""
    upload = SimpleUploadedFile(name, content)
    actor = uploader or UserFactory()
    if uploader is None:
        grant(actor, matter, GrantLevel.EDIT)
    return add_document(
        actor=actor,
        matter=matter,
        title=title,
        classification=classification or matter.classification,
        upload=upload,
    )


def make_course(
    title: str = "Confidentiality duties",
    *,
    questions: int = 2,
    passing_score: int = 80,
    recurrence_months: int | None = 12,
    published: bool = True,
    **extra,
):
    """A course with ``questions`` single-choice questions whose first answer is right
    (``answer_key(course)`` gives the passing answers)."""
    from training.models import Choice, Course, CourseStatus, Question

    course = Course.objects.create(
        title=title,
        material="<p>Keep client information confidential.</p>",
        passing_score=passing_score,
        recurrence_months=recurrence_months,
        status=CourseStatus.PUBLISHED if published else CourseStatus.DRAFT,
        **extra,
    )
    for number in range(1, questions + 1):
        question = Question.objects.create(course=course, text=f"Question {number}?", position=number)
        Choice.objects.create(question=question, text="Right", is_correct=True, position=1)
        Choice.objects.create(question=question, text="Wrong", is_correct=False, position=2)
    return course


def answer_key(course, *, wrong: int = 0) -> dict[int, list[int]]:
    """Answers to ``course``'s quiz: all right, except the first ``wrong`` questions."""
    answers = {}
    for index, question in enumerate(course.questions.prefetch_related("choices")):
        choices = list(question.choices.all())
        right = [c.pk for c in choices if c.is_correct]
        answers[question.pk] = [c.pk for c in choices if not c.is_correct][:1] if index < wrong else right
    return answers


def make_policy_document(kind: str = "agreement", title: str = "Confidentiality agreement"):
    from training.models import PolicyDocument

    return PolicyDocument.objects.create(kind=kind, title=title, title_zh="保密协议" if kind == "agreement" else "")
