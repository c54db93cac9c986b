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
