"""The compliance gate: a lapsed person holding a grant is refused CONFIDENTIAL and HIGHLY
CONFIDENTIAL matters with the reason and the way back (the course), and the refusal is audited;
completing the course opens them again by itself. Nothing else about access changes: the
outsider still meets a 404, and lower classifications stay open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from access.models import GrantLevel
from access.policy import Action, can, gate_refusal, get_document_for, get_matter_for
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import MatterFactory, answer_key, grant, make_course, make_document, make_policy_document
from training import services
from training.compliance import Status, standing_of, statuses
from training.models import RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)
DUE = TODAY + timedelta(days=5)
LAPSED_AT = T0 + timedelta(days=6)  # the day after the due date


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(db):
    return make_course("Confidentiality duties", questions=2)


@pytest.fixture
def assigned(course, harriet, bob):
    """Bob owes the confidentiality course by DUE."""
    services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=DUE)
    return course


@pytest.fixture
def lapsed(assigned, clock):
    clock.move_to(LAPSED_AT)
    return assigned


def matter_of(classification, *people):
    matter = MatterFactory(classification=classification)
    for person in people:
        grant(person, matter, GrantLevel.DOWNLOAD)
    return matter


def refusal_of(user, matter, action=Action.VIEW):
    with pytest.raises(PermissionDenied) as refused:
        get_matter_for(user, matter.pk, action)
    return refused.value.args[0]


def pass_course(user, course):
    attempt = services.start_attempt(user=user, course=course)
    return services.submit_attempt(user=user, attempt_id=attempt.pk, answers=answer_key(course))


# --- refused, with the reason and the remedy ------------------------------------------------------------


@pytest.mark.parametrize("classification", [Classification.CONFIDENTIAL, Classification.HIGHLY_CONFIDENTIAL])
def test_a_lapsed_person_is_refused_a_confidential_matter_with_the_reason_and_the_course(lapsed, bob, classification):
    matter = matter_of(classification, bob)

    decision = refusal_of(bob, matter)

    assert not decision.allowed
    assert "Confidentiality duties" in str(decision.reason)
    assert "overdue" in str(decision.reason)
    assert decision.remedy_url == lapsed.get_absolute_url()
    assert str(decision.remedy_label) == "Go to the course"
    assert standing_of(bob).status == Status.LAPSED


@pytest.mark.parametrize("classification", [Classification.PUBLIC, Classification.INTERNAL])
def test_a_lapsed_person_still_opens_public_and_internal_matters(lapsed, bob, classification):
    matter = matter_of(classification, bob)

    assert get_matter_for(bob, matter.pk) == matter
    assert can(bob, Action.DOWNLOAD, matter)


def test_every_action_on_the_matter_and_its_documents_is_refused(lapsed, bob, alice):
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    grant(alice, matter, GrantLevel.MANAGE)
    document = make_document(matter, uploader=alice)

    for action in (Action.VIEW, Action.DOWNLOAD):
        assert not can(bob, action, matter)
        assert not can(bob, action, document)
        assert can(bob, action, matter).remedy_url == lapsed.get_absolute_url()
    for action in (Action.VIEW, Action.DOWNLOAD):
        with pytest.raises(PermissionDenied):
            get_document_for(bob, document.pk, action)
    assert get_document_for(alice, document.pk, Action.DOWNLOAD) == document


def test_the_refusal_is_audited_with_the_reason(lapsed, bob):
    matter = matter_of(Classification.CONFIDENTIAL, bob)

    decision = refusal_of(bob, matter)

    event = AuditEvent.objects.get(outcome=Outcome.DENIED)
    assert event.action == AuditAction.MATTER_VIEW
    assert event.actor == bob
    assert str(event.matter_id) == str(matter.pk)
    assert event.record["reason"] == str(decision.reason)
    assert "Confidentiality duties" in event.record["reason"]


def test_completing_the_course_restores_access_without_anyone_stepping_in(lapsed, bob):
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    refusal_of(bob, matter)

    pass_course(bob, lapsed)

    assert get_matter_for(bob, matter.pk) == matter
    assert statuses([bob.pk]) == {bob.pk: Status.COMPLIANT}


def test_failing_the_quiz_does_not_restore_access(lapsed, bob):
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    attempt = services.start_attempt(user=bob, course=lapsed)
    services.submit_attempt(user=bob, attempt_id=attempt.pk, answers=answer_key(lapsed, wrong=2))

    refusal_of(bob, matter)


def test_the_last_day_is_still_in_time_and_midnight_is_not(assigned, bob, clock):
    matter = matter_of(Classification.CONFIDENTIAL, bob)

    clock.move_to(datetime(2026, 3, 7, 15, 59, 59, tzinfo=UTC))  # 23:59:59 on the due date in Shanghai
    assert get_matter_for(bob, matter.pk) == matter
    clock.move_to(datetime(2026, 3, 7, 16, 0, 0, tzinfo=UTC))  # midnight: lapsed, whatever the job has done
    refusal_of(bob, matter)


def test_someone_due_soon_is_not_refused(assigned, bob):
    matter = matter_of(Classification.HIGHLY_CONFIDENTIAL, bob)

    assert standing_of(bob).status == Status.DUE_SOON
    assert get_matter_for(bob, matter.pk) == matter


def test_an_expired_pass_is_refused_with_its_own_reason(assigned, bob, clock):
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    pass_course(bob, assigned)  # 2026-03-02: good through 2027-03-01

    clock.move_to(datetime(2027, 3, 1, 15, 0, tzinfo=UTC))  # 23:00 on the last good day
    assert get_matter_for(bob, matter.pk) == matter
    clock.move_to(datetime(2027, 3, 1, 16, 0, tzinfo=UTC))  # the pass expires at midnight
    decision = refusal_of(bob, matter)
    assert "expired" in str(decision.reason)
    assert decision.remedy_url == assigned.get_absolute_url()


def test_an_unsigned_agreement_is_refused_with_the_way_to_sign_it(harriet, bob, clock):
    version = services.publish_version(
        actor=harriet,
        document=make_policy_document("agreement", "Confidentiality agreement"),
        text_en="I will keep client information confidential.",
        text_zh="本人将对客户信息保密。",
        sign_by=DUE,
    )
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    clock.move_to(LAPSED_AT)

    decision = refusal_of(bob, matter)
    assert "Confidentiality agreement" in str(decision.reason)
    assert "signed" in str(decision.reason)
    assert decision.remedy_url == version.get_absolute_url()

    services.sign_version(user=bob, version=version, typed_name="Bob Test", confirmed=True, language="en")
    assert get_matter_for(bob, matter.pk) == matter


def test_the_earliest_overdue_item_is_named_first(assigned, harriet, bob, clock):
    later = make_course("Phishing recognition")
    services.assign_course(
        actor=harriet, course=later, target=RuleTarget.PERSON, person=bob, due_on=DUE + timedelta(days=2)
    )
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    clock.move_to(T0 + timedelta(days=30))

    assert "Confidentiality duties" in str(refusal_of(bob, matter).reason)
    pass_course(bob, assigned)
    assert "Phishing recognition" in str(refusal_of(bob, matter).reason)
    pass_course(bob, later)
    assert get_matter_for(bob, matter.pk) == matter


# --- who meets a 404 still does ----------------------------------------------------------------------------


def test_the_outsider_without_a_grant_still_finds_nothing(lapsed, harriet, bob, charlie):
    services.assign_course(
        actor=harriet, course=make_course("Other"), target=RuleTarget.PERSON, person=charlie, due_on=LAPSED_AT.date()
    )
    matter = matter_of(Classification.CONFIDENTIAL, bob)

    with pytest.raises(Http404):
        get_matter_for(charlie, matter.pk)
    assert not can(charlie, Action.VIEW, matter).remedy_url
    event = AuditEvent.objects.get(outcome=Outcome.DENIED)
    assert "Confidentiality duties" not in event.record["reason"]


def test_a_superuser_without_a_grant_finds_nothing(lapsed, bob, root):
    matter = matter_of(Classification.CONFIDENTIAL, bob)

    with pytest.raises(Http404):
        get_matter_for(root, matter.pk)


def test_a_lapsed_person_without_a_grant_finds_nothing_rather_than_the_training_reason(lapsed, bob):
    matter = matter_of(Classification.CONFIDENTIAL)

    with pytest.raises(Http404):
        get_matter_for(bob, matter.pk)


def test_gate_refusal_answers_for_a_classification(lapsed, bob, alice):
    assert gate_refusal(bob, Classification.CONFIDENTIAL) is not None
    assert gate_refusal(bob, Classification.INTERNAL) is None
    assert gate_refusal(alice, Classification.HIGHLY_CONFIDENTIAL) is None


# --- the pages -----------------------------------------------------------------------------------------------


def test_the_refusal_page_shows_the_reason_and_a_link_to_the_course(lapsed, bob, client):
    matter = matter_of(Classification.CONFIDENTIAL, bob)

    response = signed_in(client, bob).get(matter.get_absolute_url())

    assert response.status_code == 403
    page = response.content.decode()
    assert "Confidentiality duties" in page
    assert f'href="{lapsed.get_absolute_url()}" id="remedy"' in page
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED, actor=bob).count() == 1


def test_a_matter_page_reads_the_persons_standing_once(assigned, bob, client):
    """The page asks about viewing, downloading, uploading and managing: the standing is read once."""
    matter = matter_of(Classification.CONFIDENTIAL, bob)
    client = signed_in(client, bob)

    with CaptureQueriesContext(connection) as captured:
        assert client.get(matter.get_absolute_url()).status_code == 200

    standing_reads = [q["sql"] for q in captured if 'FROM "training_assignment"' in q["sql"]]
    assert len(standing_reads) == 1
