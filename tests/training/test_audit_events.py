"""Every sign, acknowledgement, assignment, attempt and completion is an audit event — with
identifiers, never free text (a typed name, a title, the material)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from tests.factories import answer_key, make_course, make_policy_document
from training import services
from training.models import Assignment, Attempt, Completion, RuleTarget, Signature

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)
TITLE = "Handling Acme Holdings files"  # a title that must not reach the log
TEXT_EN = "I will not discuss Project Falcon outside the firm."
TEXT_ZH = "本人不会在律所外讨论猎鹰项目。"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def events(action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def assert_no_free_text(event: AuditEvent, *texts: str) -> None:
    payload = bytes(event.payload).decode()
    for text in (TITLE, TEXT_EN, TEXT_ZH, "Acme", "Falcon", *texts):
        assert text not in payload, (event.action, text)
    assert event.record["reason"] == ""
    assert event.outcome == Outcome.SUCCESS


def publish(harriet, kind):
    document = make_policy_document(kind, f"{TITLE} ({kind})")
    return services.publish_version(
        actor=harriet,
        document=document,
        text_en=TEXT_EN,
        text_zh=TEXT_ZH,
        sign_by=TODAY + timedelta(days=10),
        changes="Acme Holdings clause",
    )


def test_signing_an_agreement_is_an_event_with_the_hash_and_not_the_typed_name(harriet, bob):
    version = publish(harriet, "agreement")

    services.sign_version(
        user=bob, version=version, typed_name="test bob", confirmed=True, language="zh-hans", ip_address="203.0.113.7"
    )

    [event] = events(AuditAction.AGREEMENT_SIGN)
    assert event.actor == bob
    assert event.ip_address is None  # outside a request: the signature row keeps the address it was given
    detail = event.record["detail"]
    assert detail == {
        "document_id": version.document_id,
        "version_id": str(version.pk),
        "number": 1,
        "language": "zh-hans",
        "text_hash": version.hash_zh,
    }
    assert_no_free_text(event, "test bob")
    assert not events(AuditAction.POLICY_ACKNOWLEDGE)


def test_acknowledging_a_policy_is_its_own_event(harriet, bob):
    version = publish(harriet, "policy")

    services.sign_version(user=bob, version=version, typed_name="Bob Test", confirmed=True, language="en")

    [event] = events(AuditAction.POLICY_ACKNOWLEDGE)
    assert event.actor == bob
    assert event.record["detail"]["text_hash"] == version.hash_en
    assert_no_free_text(event, "Bob Test")
    assert not events(AuditAction.AGREEMENT_SIGN)


def test_a_refused_signature_writes_no_event(harriet, bob):
    version = publish(harriet, "agreement")

    with pytest.raises(ValidationError):
        services.sign_version(user=bob, version=version, typed_name="Someone Else", confirmed=True, language="en")

    assert not events(AuditAction.AGREEMENT_SIGN)
    assert not Signature.objects.exists()


def test_publishing_a_version_is_an_event_and_each_person_asked_is_an_assignment_event(harriet, alice, bob):
    version = publish(harriet, "agreement")

    [published] = events(AuditAction.POLICY_PUBLISH)
    assert published.actor == harriet
    assert published.record["detail"] == {
        "document_id": version.document_id,
        "version_id": str(version.pk),
        "number": 1,
    }
    assert_no_free_text(published)
    assigned = events(AuditAction.TRAINING_ASSIGN)
    rows = {row.pk: row for row in Assignment.objects.filter(version=version)}
    assert sorted(event.record["detail"]["assignment_id"] for event in assigned) == sorted(rows)
    for event in assigned:
        assert event.actor == harriet
        row = rows[event.record["detail"]["assignment_id"]]
        assert event.record["detail"]["person_id"] == row.user_id
        assert event.record["detail"]["version_id"] == str(version.pk)
        assert event.record["detail"]["due_on"] == "2026-03-12"
        assert_no_free_text(event)


def test_each_assignment_is_an_event_naming_the_rule(harriet, bob, charlie):
    course = make_course(TITLE)
    team = Group.objects.create(name="Acme Holdings deal team")
    team.user_set.add(bob, charlie)

    rule, made = services.assign_course(
        actor=harriet, course=course, target=RuleTarget.GROUP, group=team, due_on=TODAY + timedelta(days=20)
    )

    *assigned, ruled = events(AuditAction.TRAINING_ASSIGN)
    assert ruled.actor == harriet
    assert ruled.record["detail"] == {
        "rule_id": rule.pk,
        "course_id": course.pk,
        "target": "group",
        "assigned_now": 2,
    }
    assert len(assigned) == len(made) == 2
    for event, row in zip(assigned, sorted(made, key=lambda r: r.pk), strict=True):
        assert event.actor == harriet
        assert event.record["detail"] == {
            "assignment_id": row.pk,
            "person_id": row.user_id,
            "due_on": "2026-03-22",
            "course_id": course.pk,
            "course_version": 1,
            "rule_id": rule.pk,
        }
        assert_no_free_text(event)


def test_a_joiners_assignment_is_an_event_of_the_system(harriet, bob, charlie):
    course = make_course(TITLE)
    team = Group.objects.create(name="Team")
    services.assign_course(
        actor=harriet, course=course, target=RuleTarget.GROUP, group=team, due_on=TODAY + timedelta(days=20)
    )

    team.user_set.add(charlie)

    _rule, event = events(AuditAction.TRAINING_ASSIGN)
    assert event.actor is None
    assert event.record["detail"]["person_id"] == charlie.pk


def test_ending_a_rule_is_an_event(harriet, bob):
    course = make_course(TITLE)
    rule, _made = services.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY + timedelta(days=20)
    )

    services.end_rule(actor=harriet, rule=rule)

    ended = events(AuditAction.TRAINING_ASSIGN)[-1]
    assert ended.actor == harriet
    assert ended.record["detail"] == {"rule_id": rule.pk, "course_id": course.pk, "target": "person", "ended": True}


def test_each_attempt_and_the_completion_are_events(harriet, bob):
    course = make_course(TITLE, questions=2)
    services.assign_course(
        actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY + timedelta(days=20)
    )

    first = services.start_attempt(user=bob, course=course)
    services.submit_attempt(user=bob, attempt_id=first.pk, answers=answer_key(course, wrong=1))
    second = services.start_attempt(user=bob, course=course)
    services.submit_attempt(user=bob, attempt_id=second.pk, answers=answer_key(course))

    attempts = events(AuditAction.TRAINING_ATTEMPT)
    assert [event.record["detail"] for event in attempts] == [
        {"course_id": course.pk, "course_version": 1, "attempt_id": str(first.pk), "score": 50, "passed": False},
        {"course_id": course.pk, "course_version": 1, "attempt_id": str(second.pk), "score": 100, "passed": True},
    ]
    assert Attempt.objects.filter(user=bob, submitted_at__isnull=False).count() == 2
    [completed] = events(AuditAction.TRAINING_COMPLETE)
    completion = Completion.objects.get()
    assert completed.actor == bob
    assert completed.record["detail"] == {
        "course_id": course.pk,
        "course_version": 1,
        "completion_id": str(completion.pk),
        "assignment_id": Assignment.objects.get(user=bob).pk,
        "expires_on": "2027-03-02",
    }
    for event in [*attempts, completed]:
        assert event.actor == bob
        assert_no_free_text(event)
        # The answers ticked are the attempt's business, not the log's.
        assert "answers" not in json.loads(bytes(event.payload))["detail"]


def test_saving_publishing_and_retiring_a_course_are_events(harriet):
    course = make_course(TITLE, published=False)
    course.material = "<p>Acme Holdings is our client.</p>"
    services.save_course(actor=harriet, course=course)
    services.publish_course(actor=harriet, course=course)
    services.retire_course(actor=harriet, course=course)

    saved = events(AuditAction.TRAINING_COURSE_SAVE)
    assert [event.record["detail"]["status"] for event in saved] == ["draft", "published", "retired"]
    for event in saved:
        assert event.actor == harriet
        assert event.record["detail"]["course_id"] == course.pk
        assert_no_free_text(event)
