"""Confidentiality agreements and security policies: versions everyone signs again, and a
signature that records who typed which name, when, from where, and the hash of the exact text."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from access.models import EmploymentStatus, Role
from tests.factories import UserFactory, make_policy_document
from training import services
from training.compliance import Status, standing_of, statuses
from training.models import Assignment, Signature, text_hash

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)
TEXT_EN = "I will keep the firm's client information confidential."
TEXT_ZH = "本人将对律所的客户信息严格保密。"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agreement(db):
    return make_policy_document("agreement", "Confidentiality agreement")


def publish(harriet, document, *, sign_by=None, text_en=TEXT_EN, text_zh=TEXT_ZH):
    return services.publish_version(
        actor=harriet,
        document=document,
        text_en=text_en,
        text_zh=text_zh,
        sign_by=sign_by or TODAY + timedelta(days=10),
        changes="First wording",
    )


def sign(user, version, typed_name=None, **kwargs):
    kwargs.setdefault("confirmed", True)
    kwargs.setdefault("language", "en")
    return services.sign_version(user=user, version=version, typed_name=typed_name or user.get_full_name(), **kwargs)


# --- versions -----------------------------------------------------------------------------------------


def test_publishing_a_version_asks_every_member_of_staff_to_sign_it(harriet, alice, bob, agreement):
    UserFactory(username="gone", employment_status=EmploymentStatus.DEPARTED)
    UserFactory(username="vera", roles=[Role.VENDOR])

    version = publish(harriet, agreement)

    asked = Assignment.objects.current().filter(version=version)
    assert set(asked.values_list("user__username", flat=True)) == {"harriet", "alice", "bob"}
    assert {row.due_on for row in asked} == {TODAY + timedelta(days=10)}
    assert version.number == 1
    assert version.hash_en == hashlib.sha256(TEXT_EN.encode()).hexdigest()
    assert version.hash_zh == hashlib.sha256(TEXT_ZH.encode()).hexdigest()


def test_someone_who_has_not_signed_is_due_soon_until_the_sign_by_date_then_lapsed(harriet, bob, agreement, clock):
    version = publish(harriet, agreement, sign_by=TODAY + timedelta(days=10))

    assert statuses([bob.pk])[bob.pk] == Status.DUE_SOON
    clock.move_to(datetime(2026, 3, 12, 23, 59, tzinfo=UTC) - timedelta(hours=8))  # the last minute of sign_by
    assert statuses([bob.pk])[bob.pk] == Status.DUE_SOON
    clock.move_to(datetime(2026, 3, 13, 0, 0, tzinfo=UTC) - timedelta(hours=8))  # midnight in Shanghai
    assert statuses([bob.pk])[bob.pk] == Status.LAPSED
    assert standing_of(bob).lapsed.version == version


def test_signing_makes_the_person_compliant(harriet, bob, agreement):
    version = publish(harriet, agreement)

    sign(bob, version)

    assert statuses([bob.pk]) == {}  # nothing dated left: compliant
    assert standing_of(bob).status == Status.COMPLIANT
    row = Assignment.objects.get(user=bob, version=version)
    assert row.completed_at is not None
    assert row.good_through is None
    assert row.signature == Signature.objects.get(user=bob)


def test_a_new_version_makes_everyone_unsigned_again(harriet, alice, bob, agreement, clock):
    first = publish(harriet, agreement)
    sign(alice, first)
    sign(bob, first)
    assert statuses([alice.pk, bob.pk]) == {}

    clock.shift(timedelta(days=3))
    second = publish(harriet, agreement, text_en=TEXT_EN + " Also on social media.", sign_by=TODAY + timedelta(days=9))

    assert second.number == 2
    assert statuses([alice.pk, bob.pk]) == {alice.pk: Status.DUE_SOON, bob.pk: Status.DUE_SOON}
    assert not Assignment.objects.current().filter(version=first).exists()  # kept, no longer counting
    assert Assignment.objects.filter(version=first, completed_at__isnull=False).count() == 2
    assert set(Assignment.objects.current().open().values_list("user__username", flat=True)) == {
        "harriet",
        "alice",
        "bob",
    }
    clock.move_to(T0 + timedelta(days=10))
    assert statuses([alice.pk, bob.pk]) == {alice.pk: Status.LAPSED, bob.pk: Status.LAPSED}


def test_the_previous_version_can_no_longer_be_signed(harriet, bob, agreement):
    first = publish(harriet, agreement)
    publish(harriet, agreement, text_en="Second wording.")

    with pytest.raises(ValidationError) as refused:
        sign(bob, first)

    assert "newer version" in refused.value.messages[0]
    assert not Signature.objects.exists()


def test_only_hr_publishes_a_version(bob, agreement):
    with pytest.raises(PermissionDenied):
        publish(bob, agreement)
    assert not agreement.versions.exists()


def test_a_sign_by_date_in_the_past_is_refused(harriet, agreement):
    with pytest.raises(ValidationError) as refused:
        publish(harriet, agreement, sign_by=TODAY - timedelta(days=1))

    assert "sign_by" in refused.value.message_dict
    assert not agreement.versions.exists()
    assert not Assignment.objects.exists()


# --- what a signature records --------------------------------------------------------------------------


def test_a_signature_records_name_time_address_language_and_the_hash_of_the_text_read(harriet, bob, agreement):
    version = publish(harriet, agreement)

    signature = sign(
        bob, version, typed_name="  Bob Test ", ip_address="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux)"
    )

    signature.refresh_from_db()
    assert signature.typed_name == "Bob Test"
    assert signature.signed_at == T0
    assert signature.ip_address == "203.0.113.7"
    assert signature.user_agent == "Mozilla/5.0 (X11; Linux)"
    assert signature.language == "en"
    assert signature.text_hash == hashlib.sha256(TEXT_EN.encode()).hexdigest()
    assert signature.matches_text


def test_signing_in_chinese_records_the_hash_of_the_chinese_text(harriet, bob, agreement):
    version = publish(harriet, agreement)

    signature = sign(bob, version, language="zh-hans")

    assert signature.language == "zh-hans"
    assert signature.text_hash == hashlib.sha256(TEXT_ZH.encode()).hexdigest() == text_hash(version.text_zh)
    assert signature.text_hash != version.hash_en
    assert signature.matches_text


def test_the_text_is_stored_as_it_was_read(harriet, bob, agreement):
    version = publish(harriet, agreement, text_en=f"  {TEXT_EN}\n")

    assert version.text_en == TEXT_EN
    assert sign(bob, version).text_hash == hashlib.sha256(TEXT_EN.encode()).hexdigest()


def test_an_acknowledged_policy_counts_like_a_signed_agreement(harriet, bob):
    policy = make_policy_document("policy", "Information security policy")
    version = publish(harriet, policy)

    sign(bob, version)

    assert Assignment.objects.get(user=bob, version=version).completed_at is not None


# --- refused signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed_name", "confirmed", "field"),
    [
        ("Robert Smith", True, "typed_name"),
        ("Bob", True, "typed_name"),
        ("", True, "typed_name"),
        ("Bob Test", False, "confirmed"),
    ],
)
def test_a_wrong_name_or_no_confirmation_is_refused_and_nothing_is_signed(
    harriet, bob, agreement, typed_name, confirmed, field
):
    version = publish(harriet, agreement)

    with pytest.raises(ValidationError) as refused:
        services.sign_version(user=bob, version=version, typed_name=typed_name, confirmed=confirmed, language="en")

    assert field in refused.value.message_dict
    assert not Signature.objects.exists()
    assert Assignment.objects.get(user=bob, version=version).completed_at is None


def test_the_mismatch_message_names_the_expected_name(harriet, bob, agreement):
    version = publish(harriet, agreement)

    with pytest.raises(ValidationError) as refused:
        sign(bob, version, typed_name="Robert")

    assert "Bob Test" in refused.value.message_dict["typed_name"][0]


def test_signing_twice_is_refused_and_the_first_signature_stands(harriet, bob, agreement, clock):
    version = publish(harriet, agreement)
    first = sign(bob, version, ip_address="203.0.113.7")

    clock.shift(timedelta(hours=2))
    with pytest.raises(ValidationError) as refused:
        sign(bob, version, ip_address="198.51.100.1", language="zh-hans")

    assert "already signed" in refused.value.messages[0]
    assert list(Signature.objects.all()) == [first]
    first.refresh_from_db()
    assert (first.ip_address, first.language, first.signed_at) == ("203.0.113.7", "en", T0)


# --- name matching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Bob Test",
        "Test Bob",  # family name first
        "bob test",
        "  BOB   TEST  ",
        "BobTest",
        "Ｂｏｂ　Ｔｅｓｔ",  # full-width letters and space
    ],
)
def test_the_name_on_the_account_is_accepted_in_either_order_and_any_spacing_or_width(bob, typed):
    assert services.name_matches(bob, typed)


@pytest.mark.parametrize("typed", ["", "   ", "Bob", "Test", "Bob Tester", "Bob T.", "Alice Test"])
def test_another_name_is_not_accepted(bob, typed):
    assert not services.name_matches(bob, typed)


@pytest.mark.parametrize("typed", ["张三", "张 三", "张　三", " 张三 ", "三张"])
def test_a_chinese_name_is_accepted_family_name_first_with_or_without_spaces(db, typed):
    person = UserFactory(username="zhang", first_name="三", last_name="张")

    assert services.name_matches(person, typed)


def test_someone_without_a_name_on_record_signs_with_their_user_name(harriet, agreement):
    nameless = UserFactory(username="jdoe", first_name="", last_name="")
    version = publish(harriet, agreement)

    assert not services.name_matches(nameless, "")
    signature = sign(nameless, version, typed_name="JDOE")
    assert signature.typed_name == "JDOE"
