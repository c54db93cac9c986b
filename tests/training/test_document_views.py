"""Reading and signing an agreement or policy in either language, and HR's pages for them.

What is signed is what was shown: the language displayed is the language whose text is
hashed into the signature. A fault (a name that does not match, no confirmation, an old
version, a second signature) is named on the page and nothing is recorded.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import make_policy_document
from training import services
from training.models import Assignment, DocumentVersion, PolicyDocument, Signature, text_hash

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)
SIGN_BY = TODAY + timedelta(days=10)
TEXT_EN = "I will keep every client's information confidential.\n\nThis binds me after I leave."
TEXT_ZH = "我将对每位客户的信息保密。\n\n离职后本协议仍然有效。"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agreement(harriet, bob, charlie):
    """Version 1 of the confidentiality agreement; Bob and Charlie are asked to sign it."""
    document = make_policy_document("agreement", "Confidentiality agreement")
    return services.publish_version(
        actor=harriet, document=document, text_en=TEXT_EN, text_zh=TEXT_ZH, sign_by=SIGN_BY, changes="First wording"
    )


@pytest.fixture
def policy(harriet, bob):
    document = make_policy_document("policy", "Information security policy")
    return services.publish_version(
        actor=harriet, document=document, text_en="Lock your screen.", text_zh="锁定屏幕。", sign_by=SIGN_BY
    )


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def sign_url(version) -> str:
    return reverse("training:sign", args=[version.pk])


def post_signature(client, version, *, name="Bob Test", confirmed=True, language="en", **extra):
    data = {"typed_name": name, "language": language, **({"confirmed": "on"} if confirmed else {})}
    return client.post(sign_url(version), data, **extra)


# --- Reading --------------------------------------------------------------------------------


def test_the_page_shows_the_text_version_changes_and_date(client, agreement, bob):
    response = signed_in(client, bob).get(sign_url(agreement))

    assert response.status_code == 200
    page = text_of(response)
    assert "I will keep every client's information confidential." in page
    assert "我将对每位客户的信息保密" not in page
    assert "version 1" in page
    assert "First wording" in page
    assert 'id="sign-by">2026-03-12' in page
    assert 'href="?lang=zh-hans"' in page
    assert "I have read and agree to be bound by this agreement." in page
    assert text_hash(agreement.text_en) in page


def test_the_other_language_is_one_link_away(client, agreement, bob):
    page = text_of(signed_in(client, bob).get(sign_url(agreement), {"lang": "zh-hans"}))

    assert "我将对每位客户的信息保密。" in page
    assert "I will keep every client's information confidential." not in page
    assert 'href="?lang=en"' in page
    assert 'name="language" value="zh-hans"' in page


def test_a_chinese_interface_shows_the_chinese_text_first(client, agreement, bob):
    page = text_of(signed_in(client, bob).get(sign_url(agreement), HTTP_ACCEPT_LANGUAGE="zh-hans"))

    assert "我将对每位客户的信息保密。" in page
    assert 'name="language" value="zh-hans"' in page


def test_a_policy_is_acknowledged_with_its_own_words(client, policy, bob):
    page = text_of(signed_in(client, bob).get(sign_url(policy)))

    assert "I have read and will follow this policy." in page
    assert "agree to be bound" not in page


def test_a_version_that_does_not_exist_is_404(client, bob):
    assert (
        signed_in(client, bob).get(reverse("training:sign", args=["00000000-0000-0000-0000-000000000000"])).status_code
        == 404
    )


# --- Signing --------------------------------------------------------------------------------


def test_signing_records_the_name_time_address_and_hash_of_the_english_text(client, agreement, bob):
    response = post_signature(
        signed_in(client, bob), agreement, name="  bob test ", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140"
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("training:mine")
    signature = Signature.objects.get(user=bob, version=agreement)
    assert signature.language == "en"
    assert signature.text_hash == text_hash(TEXT_EN)
    assert signature.ip_address == "203.0.113.7"
    assert signature.user_agent == "Firefox/140"
    assert signature.signed_at == T0
    assert Assignment.objects.get(user=bob, version=agreement).completed_at == T0
    assert "You signed “Confidentiality agreement”." in text_of(client.get(response["Location"]))
    assert AuditEvent.objects.filter(action=AuditAction.AGREEMENT_SIGN, actor=bob).exists()


def test_signing_the_chinese_text_records_the_hash_of_the_chinese_text(client, agreement, bob):
    client = signed_in(client, bob)
    page = client.get(sign_url(agreement), {"lang": "zh-hans"})
    assert text_hash(TEXT_ZH) in text_of(page)

    response = post_signature(client, agreement, language="zh-hans")

    assert response.status_code == 302
    signature = Signature.objects.get(user=bob, version=agreement)
    assert signature.language == "zh-hans"
    assert signature.text_hash == text_hash(TEXT_ZH) == agreement.hash_zh
    assert signature.text_hash != agreement.hash_en
    assert signature.matches_text


def test_a_name_that_does_not_match_is_refused_and_kept_for_correction(client, agreement, bob):
    response = post_signature(signed_in(client, bob), agreement, name="Robert Tester")

    assert response.status_code == 200
    page = text_of(response)
    assert "The name you typed does not match the name on your account: Bob Test." in page
    assert 'value="Robert Tester"' in page
    assert not Signature.objects.exists()
    assert Assignment.objects.get(user=bob, version=agreement).completed_at is None


def test_a_name_in_the_other_order_or_with_other_spacing_is_accepted(client, agreement, bob):
    assert post_signature(signed_in(client, bob), agreement, name="TEST  bob").status_code == 302
    assert Signature.objects.filter(user=bob).count() == 1


def test_signing_without_confirming_is_refused(client, agreement, bob):
    response = post_signature(signed_in(client, bob), agreement, confirmed=False)

    assert response.status_code == 200
    assert "Tick the box to confirm." in text_of(response)
    assert 'value="Bob Test"' in text_of(response)
    assert not Signature.objects.exists()


def test_an_empty_name_is_refused(client, agreement, bob):
    response = post_signature(signed_in(client, bob), agreement, name="")

    assert "Type your full name as it appears on your account." in text_of(response)
    assert not Signature.objects.exists()


def test_a_signed_version_says_when_and_cannot_be_signed_again(client, agreement, bob):
    client = signed_in(client, bob)
    post_signature(client, agreement, language="zh-hans")

    page = client.get(sign_url(agreement))
    assert "You signed it" in text_of(page)
    assert "2026-03-02 09:00" in text_of(page)
    assert 'id="sign-form"' not in text_of(page)

    again = post_signature(client, agreement)
    assert "You already signed this version on" in text_of(again)
    assert Signature.objects.filter(user=bob).count() == 1


def test_an_old_version_points_to_the_latest_and_cannot_be_signed(client, agreement, harriet, bob):
    latest = services.publish_version(
        actor=harriet,
        document=agreement.document,
        text_en=TEXT_EN + "\n\nAnd after.",
        text_zh=TEXT_ZH + "\n\n以后也是。",
        sign_by=SIGN_BY,
        changes="Adds a clause",
    )
    client = signed_in(client, bob)

    page = text_of(client.get(sign_url(agreement)))
    assert "This is not the latest version" in page
    assert f'href="{sign_url(latest)}"' in page
    assert 'id="sign-form"' not in page

    refused = post_signature(client, agreement)
    assert "A newer version of this document has been published." in text_of(refused)
    assert not Signature.objects.exists()


def test_a_vendor_user_has_nothing_to_sign_here(client, agreement):
    from access.models import Role
    from tests.factories import UserFactory, enroll

    vendor = UserFactory(username="vera", first_name="Vera", last_name="Vendor", roles=[Role.VENDOR])
    enroll(vendor)

    assert signed_in(client, vendor).get(sign_url(agreement)).status_code == 404


# --- HR's pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["bob", "dana", "adam", "root"])
def test_hr_s_document_pages_are_404_to_everyone_else(client, request, agreement, persona):
    client = signed_in(client, request.getfixturevalue(persona))
    document = agreement.document

    assert client.get(reverse("training:documents")).status_code == 404
    assert client.get(reverse("training:document_new")).status_code == 404
    assert client.post(reverse("training:document_new"), {"kind": "policy", "title": "Sneaky"}).status_code == 404
    assert client.get(reverse("training:version_new", args=[document.pk])).status_code == 404
    posted = client.post(
        reverse("training:version_new", args=[document.pk]),
        {"text_en": "x", "text_zh": "x", "sign_by": "2026-04-01"},
    )
    assert posted.status_code == 404
    assert PolicyDocument.objects.count() == 1
    assert DocumentVersion.objects.count() == 1


def test_hr_sees_each_version_with_how_many_signed(client, agreement, harriet, bob):
    post_signature(signed_in(client, bob), agreement)

    response = signed_in(client, harriet).get(reverse("training:documents"))

    assert response.status_code == 200
    row = re.search(rf'id="version-{agreement.pk}">(.*?)</tr>', text_of(response), re.S).group(1)
    asked = Assignment.objects.filter(version=agreement).count()
    assert asked >= 3  # harriet, bob, charlie at least
    assert f"1 of {asked}" in row
    assert "2026-03-12" in row and "First wording" in row
    assert reverse("training:version_new", args=[agreement.document.pk]) in text_of(response)


def test_hr_sees_an_empty_list_when_there_is_nothing(client, harriet):
    response = signed_in(client, harriet).get(reverse("training:documents"))

    assert 'id="documents-empty"' in text_of(response)


def test_hr_creates_a_document_then_writes_its_first_version(client, harriet, bob):
    client = signed_in(client, harriet)

    created = client.post(
        reverse("training:document_new"), {"kind": "policy", "title": "Clean desk policy", "title_zh": "清洁桌面政策"}
    )

    document = PolicyDocument.objects.get(title="Clean desk policy")
    assert created.status_code == 302
    assert created["Location"] == reverse("training:version_new", args=[document.pk])
    form = client.get(created["Location"])
    assert "A new version requires everyone to sign again." in text_of(form)

    published = client.post(
        created["Location"],
        {"text_en": "Clear your desk.", "text_zh": "清理桌面。", "changes": "", "sign_by": "2026-03-20"},
    )

    assert published.status_code == 302
    assert published["Location"] == reverse("training:documents")
    version = document.versions.get()
    assert version.number == 1 and version.sign_by == date(2026, 3, 20)
    assert Assignment.objects.filter(version=version, user=bob, due_on=date(2026, 3, 20)).exists()


def test_a_document_without_a_title_is_refused(client, harriet):
    response = signed_in(client, harriet).post(reverse("training:document_new"), {"kind": "policy", "title": ""})

    assert response.status_code == 200
    assert "This field is required." in text_of(response)
    assert not PolicyDocument.objects.exists()


def test_a_new_version_needs_both_texts_and_a_date(client, agreement, harriet):
    response = signed_in(client, harriet).post(
        reverse("training:version_new", args=[agreement.document.pk]), {"text_en": "", "text_zh": "", "sign_by": ""}
    )

    page = text_of(response)
    assert "Give the text in English." in page
    assert "Give the text in Chinese." in page
    assert "Give the date by which everyone must sign." in page
    assert agreement.document.versions.count() == 1


def test_a_sign_by_date_in_the_past_is_refused(client, agreement, harriet):
    response = signed_in(client, harriet).post(
        reverse("training:version_new", args=[agreement.document.pk]),
        {"text_en": "New", "text_zh": "新", "sign_by": "2026-03-01"},
    )

    assert "The date to sign by has passed." in text_of(response)
    assert agreement.document.versions.count() == 1


def test_the_new_version_form_starts_from_the_current_text(client, agreement, harriet):
    page = text_of(signed_in(client, harriet).get(reverse("training:version_new", args=[agreement.document.pk])))

    assert "This binds me after I leave." in page
    assert "离职后本协议仍然有效。" in page


def test_a_new_version_makes_everyone_sign_again(client, agreement, harriet, bob):
    post_signature(signed_in(client, bob), agreement)

    signed_in(client, harriet).post(
        reverse("training:version_new", args=[agreement.document.pk]),
        {"text_en": "Version two.", "text_zh": "第二版。", "changes": "Shorter", "sign_by": "2026-03-30"},
    )

    latest = agreement.document.current_version()
    assert latest.number == 2
    owed = Assignment.objects.current().get(user=bob, version__document=agreement.document)
    assert owed.version == latest and owed.completed_at is None
    mine = text_of(signed_in(client, bob).get(reverse("training:mine")))
    assert sign_url(latest) in mine
