"""Notifications: stored for the app, e-mailed after commit in English and Chinese, never with free text."""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation

from access.access_requests import approve_access_request, deny_access_request, request_access
from access.break_glass import open_in_emergency
from access.expiry import expire_grants
from access.models import (
    EmploymentStatus,
    GrantLevel,
    MatterUserGrant,
    Notification,
    NotificationKind,
    Role,
    WallKind,
)
from access.notifications import message, notify, notify_many, send_emails_for
from access.reviews import start_campaign
from access.services import add_team_member, end_access_of_departed_users, revoke_team_grant
from access.wall_services import erect_wall
from matters.models import Classification
from tests.access.test_sign_in import T0
from tests.factories import MatterFactory, UserFactory, grant, make_course
from training.jobs import record_lapses, send_reminders
from training.models import RuleTarget
from training.services import assign_course

NUMBER = "2026-T-04711"
SECRET = "Acme Holdings is about to be sued by its auditors"
HAN = re.compile(r"[\u4e00-\u9fff]")
SITE = "https://custos.example.com"
COURSE = {"title": "Confidentiality duties", "title_zh": "保密义务", "due": "2026-03-16"}

# Each kind with the parameters its service stores (access.access_requests, access.services, access.expiry).
PARAMS = {
    NotificationKind.REQUEST_SUBMITTED: {"requester": "Charlie Test", "number": NUMBER, "level": "view_matter"},
    NotificationKind.REQUEST_NEEDS_SECOND: {"approver": "Alice Test", "requester": "Charlie Test", "number": NUMBER},
    NotificationKind.REQUEST_APPROVED: {"number": NUMBER, "level": "download_matter", "until": "2026-03-22"},
    NotificationKind.REQUEST_DENIED: {"number": NUMBER, "reason": SECRET},
    NotificationKind.REQUEST_LAPSED: {"number": NUMBER},
    NotificationKind.GRANT_ADDED: {"approver": "Alice Test", "number": NUMBER, "level": "change_matter"},
    NotificationKind.GRANT_EXPIRING: {"number": NUMBER, "level": "view_matter", "until": "2026-03-08"},
    NotificationKind.TEAM_GRANT_EXPIRING: {
        "number": NUMBER,
        "level": "download_matter",
        "until": "2026-03-08",
        "team": "Project Falcon team",
    },
    NotificationKind.GRANT_REVOKED: {"number": NUMBER, "reason": SECRET},
    NotificationKind.DEPARTURE: {
        "person": "Bob Test",
        "username": "bob",
        "count": 2,
        "grants": [{"number": NUMBER, "level": "view_matter"}],
        "groups": [],
        "sessions": 1,
    },
    # training.assignments.notice_params, and training.jobs for the escalation's person.
    NotificationKind.TRAINING_ASSIGNED: COURSE,
    NotificationKind.TRAINING_REMINDER: COURSE,
    NotificationKind.TRAINING_OVERDUE: COURSE,
    NotificationKind.TRAINING_ESCALATION: {**COURSE, "person": "Bob Test"},
    # access.wall_services, access.break_glass and access.reviews.
    NotificationKind.WALL_MEMO: {"kind": "exclusionary", "number": NUMBER},
    NotificationKind.WALL_REVOKED: {"number": NUMBER},
    NotificationKind.BREAK_GLASS: {"person": "Bob Test", "number": NUMBER, "until": "2026-03-02T14:00+08:00"},
    NotificationKind.REVIEW_ASSIGNED: {"name": "Access review 2026 Q1", "count": 3, "closes": "2026-03-16"},
}
TRAINING_KINDS = frozenset(
    {
        NotificationKind.TRAINING_ASSIGNED,
        NotificationKind.TRAINING_REMINDER,
        NotificationKind.TRAINING_OVERDUE,
        NotificationKind.TRAINING_ESCALATION,
    }
)


def named_in(kind, language: str) -> list[str]:
    """What the sentence must name: the matter, the person who left, or the course (in the reader's language)."""
    if kind == NotificationKind.DEPARTURE:
        return ["Bob Test"]
    if kind == NotificationKind.BREAK_GLASS:
        return ["Bob Test", NUMBER]
    if kind == NotificationKind.REVIEW_ASSIGNED:
        return ["Access review 2026 Q1"]
    if kind in TRAINING_KINDS:
        title = COURSE["title_zh"] if language.startswith("zh") else COURSE["title"]
        return [title, "Bob Test"] if kind == NotificationKind.TRAINING_ESCALATION else [title]
    return [NUMBER]


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE


def test_every_kind_has_its_parameters_listed_here():
    assert set(PARAMS) == set(NotificationKind)


# --- who is told --------------------------------------------------------------------------------


def test_each_active_recipient_is_told_once(bob, charlie, django_capture_on_commit_callbacks):
    gone = UserFactory(username="gone", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        told = notify([bob, None, gone, charlie, bob], NotificationKind.REQUEST_LAPSED, {"number": NUMBER}, "/x/")

    assert told == 2
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["bob", "charlie"]
    assert sorted(address for sent in mail.outbox for address in sent.to) == sorted([bob.email, charlie.email])


def test_nobody_to_tell_writes_nothing(django_capture_on_commit_callbacks, db):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify([None], NotificationKind.REQUEST_LAPSED, {"number": NUMBER}) == 0

    assert not Notification.objects.exists()
    assert not callbacks
    assert not mail.outbox


def test_someone_without_an_address_is_told_in_the_app_only(django_capture_on_commit_callbacks, db):
    quiet = UserFactory(username="quiet", email="")

    with django_capture_on_commit_callbacks(execute=True):
        notify([quiet], NotificationKind.REQUEST_LAPSED, {"number": NUMBER})

    assert Notification.objects.get().recipient == quiet
    assert not mail.outbox


def test_the_daily_jobs_batch_skips_inactive_people(bob, django_capture_on_commit_callbacks):
    gone = UserFactory(username="gone", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        told = notify_many(
            [
                (bob, NotificationKind.REQUEST_LAPSED, {"number": NUMBER}, "/a/"),
                (gone, NotificationKind.REQUEST_LAPSED, {"number": NUMBER}, "/a/"),
            ]
        )

    assert told == 1
    assert Notification.objects.get().recipient == bob
    assert [sent.to for sent in mail.outbox] == [[bob.email]]


# --- after commit only ----------------------------------------------------------------------------


def test_mail_waits_for_the_commit(bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([bob], NotificationKind.REQUEST_LAPSED, {"number": NUMBER})
        assert not mail.outbox

    assert len(callbacks) == 1
    assert not mail.outbox
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_a_rolled_back_decision_sends_nothing(bob, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        notify([bob], NotificationKind.REQUEST_DENIED, {"number": NUMBER, "reason": SECRET})
        raise RuntimeError("the decision failed")

    assert not callbacks
    assert not mail.outbox
    assert not Notification.objects.exists()


def test_a_mail_server_that_is_down_loses_no_notification(monkeypatch, bob, django_capture_on_commit_callbacks):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("access.notifications.get_connection", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        notify([bob], NotificationKind.REQUEST_LAPSED, {"number": NUMBER})

    assert Notification.objects.get().recipient == bob


# --- what the e-mail says ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PARAMS), ids=[kind.value for kind in PARAMS])
def test_the_mail_is_in_both_languages_with_an_absolute_link_and_no_free_text(
    kind, site, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify([bob], kind, PARAMS[kind], "/access/requests/")

    [sent] = mail.outbox
    assert sent.to == [bob.email]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert message(kind, PARAMS[kind]) in sent.body
            assert str(NotificationKind(kind).label) in sent.subject
    assert f"{SITE}/access/requests/" in sent.body
    assert "Acme" not in sent.body
    assert "Acme" not in sent.subject


def test_the_mail_reads_in_chinese_too(site, bob, django_capture_on_commit_callbacks):
    # Fails until the catalog translates the notification wording (locale/zh_Hans).
    with django_capture_on_commit_callbacks(execute=True):
        for kind, params in PARAMS.items():
            notify([bob], kind, params, "/access/requests/")

    untranslated = [
        kind.value
        for kind, sent in zip(PARAMS, mail.outbox, strict=True)
        if not (HAN.search(sent.body) and HAN.search(sent.subject))
    ]
    assert untranslated == []


def test_without_a_link_the_mail_points_at_the_site(site, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify([bob], NotificationKind.GRANT_REVOKED, {"number": NUMBER, "reason": SECRET})

    [sent] = mail.outbox
    assert SITE in sent.body
    assert "Acme" not in sent.body


# --- the sentence -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("kind", list(PARAMS), ids=[kind.value for kind in PARAMS])
def test_each_kind_reads_as_a_sentence_in_each_language(kind, language, caplog):
    with caplog.at_level(logging.WARNING, logger="access.notifications"), translation.override(language):
        text = message(kind, PARAMS[kind])
        label = str(NotificationKind(kind).label)

    assert not caplog.records, "a parameter is missing from the wording"
    assert text and text != label
    assert "%(" not in text
    assert "Acme" not in text  # the reason is shown beside the sentence, never inside it
    for expected in named_in(kind, language):
        assert expected in text


def test_levels_and_dates_are_worded_for_people():
    text = message(NotificationKind.REQUEST_APPROVED, PARAMS[NotificationKind.REQUEST_APPROVED])

    assert "download" in text
    assert "download_matter" not in text
    assert "2026-03-22" not in text
    assert "2026" in text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "exclusionary", "number": NUMBER}, f"keeps you from matter {NUMBER}"),
        ({"kind": "exclusionary", "client": "C-00042"}, "keeps you from every matter of client C-00042"),
        ({"kind": "inclusionary", "number": NUMBER}, f"work on matter {NUMBER}, and it names you"),
        ({"kind": "inclusionary", "client": "C-00042"}, "the matters of client C-00042, and it names you"),
    ],
)
def test_a_wall_memo_says_which_way_the_wall_works_and_around_what(params, expected):
    assert expected in message(NotificationKind.WALL_MEMO, params)


def test_emergency_access_ends_at_a_time_worded_for_people():
    with translation.override("en"), timezone.override("Asia/Shanghai"):
        text = message(NotificationKind.BREAK_GLASS, PARAMS[NotificationKind.BREAK_GLASS])

    assert "2 p.m." in text
    assert "T14" not in text


def test_a_sentence_missing_a_parameter_falls_back_to_the_kind(caplog):
    with caplog.at_level(logging.WARNING, logger="access.notifications"):
        text = message(NotificationKind.REQUEST_APPROVED, {"number": NUMBER})

    assert text == str(NotificationKind.REQUEST_APPROVED.label)
    assert caplog.records


def test_what_the_services_store_reads_as_a_sentence(alice, bob, charlie, dana, adam, matter, caplog):
    """Every kind, as the services really write it, renders in both languages."""
    today = date(2026, 3, 2)
    hr = UserFactory(username="hana", roles=(Role.HR,))
    secret = MatterFactory(responsible_partner=alice, classification=Classification.HIGHLY_CONFIDENTIAL)
    grant(alice, secret, GrantLevel.MANAGE)
    with time_machine.travel(T0, tick=False) as clock:
        first = request_access(
            actor=charlie, number=secret.number, level=GrantLevel.VIEW, reason=SECRET, ends_on=today + timedelta(5)
        )
        approve_access_request(actor=alice, access_request=first)
        approve_access_request(actor=dana, access_request=first)
        grant(Group.objects.create(name="Project Falcon team"), matter, GrantLevel.DOWNLOAD, T0 + timedelta(days=3))
        expire_grants()  # Charlie's five days, and the team's three: warned
        second = request_access(
            actor=charlie, number=matter.number, level=GrantLevel.VIEW, reason=SECRET, ends_on=today + timedelta(9)
        )
        deny_access_request(actor=alice, access_request=second, reason=SECRET)
        request_access(
            actor=charlie, number=matter.number, level=GrantLevel.EDIT, reason=SECRET, ends_on=today + timedelta(9)
        )
        add_team_member(actor=alice, matter=matter, level=GrantLevel.EDIT, reason=SECRET, user=dana)
        revoke_team_grant(actor=alice, grant=MatterUserGrant.objects.get(user=dana, content_object=matter), reason="x")
        bob.manager = alice
        bob.employment_status = EmploymentStatus.DEPARTED
        bob.save(update_fields=["manager", "employment_status"])
        end_access_of_departed_users()
        # Training: assigned to Charlie (who has no manager), reminded on the due date, overdue
        # the day after, and escalated to HR.
        course = make_course("Confidentiality duties", title_zh="保密义务")
        assign_course(actor=hr, course=course, target=RuleTarget.PERSON, person=charlie, due_on=today + timedelta(3))
        send_reminders(today + timedelta(3))
        record_lapses(today + timedelta(4))
        # An ethical wall revokes Charlie's grant and sends him its memo; his emergency access on
        # another matter tells the security officer; a recertification tells Alice what to review.
        walled = MatterFactory(responsible_partner=alice)
        grant(charlie, walled, GrantLevel.VIEW)
        erect_wall(actor=dana, kind=WallKind.EXCLUSIONARY, client=walled.client, matter=walled, people=[charlie],
                   reason=SECRET, memo=SECRET)  # fmt: skip
        emergency = MatterFactory(responsible_partner=alice, classification=Classification.INTERNAL)
        open_in_emergency(user=charlie, number=emergency.number, reason=SECRET)
        start_campaign(actor=dana)
        clock.move_to(T0 + timedelta(days=15))
        expire_grants()
    assert hr.notifications.filter(kind=NotificationKind.DEPARTURE).exists()
    assert hr.notifications.filter(kind=NotificationKind.TRAINING_ESCALATION).exists()
    assert charlie.notifications.filter(kind=NotificationKind.TRAINING_OVERDUE).exists()

    stored = list(Notification.objects.all())
    assert {n.kind for n in stored} == set(NotificationKind)
    for notification in stored:
        for language in ("en", "zh-hans"):
            with caplog.at_level(logging.WARNING, logger="access.notifications"), translation.override(language):
                text = message(notification.kind, notification.params)
            assert text and text != str(NotificationKind(notification.kind).label), notification.kind
    assert not caplog.records


def test_a_retried_batch_sends_only_what_had_not_gone(alice, bob, charlie, monkeypatch):
    """The mail server fails after the first message: the retry sends the other two, not three."""
    from django.core.mail.backends.locmem import EmailBackend

    for person in (alice, bob, charlie):
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])
    notify([alice, bob, charlie], NotificationKind.REQUEST_LAPSED, {"number": NUMBER})
    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    real_send = EmailBackend.send_messages
    calls = {"n": 0}

    def flaky(self, messages):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionRefusedError("the mail server went away")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    with pytest.raises(OSError):
        send_emails_for(ids)
    assert len(mail.outbox) == 1

    assert send_emails_for(ids) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com", "charlie@example.com"]
    assert send_emails_for(ids) == 0
