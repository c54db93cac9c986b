"""HR's dashboard, the CSV export, the people list and a person's training record.

Harriet (HR) and Dana (the security officer) read them; Bob reads his own record;
everyone else — Bob on anyone else, Adam the administrator, Root the superuser —
finds no such pages (404).
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from access.models import Department
from audit.actions import AuditAction
from audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import UserFactory, answer_key, make_course, make_policy_document
from training import services
from training.models import DocumentVersion, RuleTarget, text_hash


def visible_text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags).replace("\xa0", " "))


def rate(response, kind: str, key) -> int:
    """The percentage a chart bar shows (its ``data-rate``)."""
    found = re.search(rf'data-{kind}="{key}" data-rate="(\d+)"', response.content.decode())
    assert found, f"no {kind} bar {key}"
    return int(found.group(1))


def section(response, element_id: str) -> str:
    """The HTML of the element with ``id``, up to its closing </section>."""
    content = response.content.decode()
    start = content.index(f'id="{element_id}"')
    return content[start : content.index("</section>", start)]


def pass_course(person, course):
    attempt = services.start_attempt(user=person, course=course)
    return services.submit_attempt(user=person, attempt_id=attempt.pk, answers=answer_key(course))


def assign(harriet, course, *people, days: int = 0):
    for person in people:
        services.assign_course(
            actor=harriet,
            course=course,
            target=RuleTarget.PERSON,
            person=person,
            due_on=timezone.localdate() + timedelta(days=days),
        )


def export(client, **params):
    response = client.get(reverse("training:export"), params)
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8")
    return response, content


@pytest.fixture
def firm(harriet, bob, charlie, alice):
    """Bob (litigation) and Charlie (corporate) report to Alice; one course assigned to both, due today."""
    bob.department, charlie.department = Department.LITIGATION, Department.CORPORATE
    bob.manager = charlie.manager = alice
    bob.save()
    charlie.save()
    course = make_course("Confidentiality duties", title_zh="保密义务")
    assign(harriet, course, bob, charlie)
    return course


# --- The dashboard ---------------------------------------------------------------------------


def test_the_course_chart_rises_when_bob_passes(client, harriet, bob, charlie, firm):
    signed_in(client, harriet)
    before = client.get(reverse("training:dashboard"))
    assert before.status_code == 200
    assert rate(before, "course", firm.pk) == 0
    assert 'role="img"' in section(before, "chart-courses")

    pass_course(bob, firm)

    after = client.get(reverse("training:dashboard"))
    assert rate(after, "course", firm.pk) == 50
    assert "50% · 1 of 2" in visible_text(after)
    assert rate(after, "department", Department.LITIGATION) == 100
    assert rate(after, "department", Department.CORPORATE) == 0
    # The same figures as a table, for anyone who would rather read.
    assert "<details" in section(after, "chart-courses")


def test_the_chart_shows_course_titles_in_the_reader_s_language(client, harriet, firm):
    signed_in(client, harriet)
    client.cookies["django_language"] = "zh-hans"

    response = client.get(reverse("training:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "保密义务" in section(response, "chart-courses")


def test_agreements_have_their_own_chart_and_unsigned_list(client, harriet, bob, charlie, firm):
    document = make_policy_document()
    version = services.publish_version(
        actor=harriet,
        document=document,
        text_en="I keep client information confidential.",
        text_zh="我对客户信息保密。",
        sign_by=timezone.localdate() + timedelta(days=7),
    )
    services.sign_version(user=bob, version=version, typed_name="Bob Test", confirmed=True, language="en")
    signed_in(client, harriet)

    response = client.get(reverse("training:dashboard"))

    staff = 4  # Alice, Bob, Charlie, Harriet
    assert rate(response, "version", version.pk) == round(100 / staff)
    unsigned = section(response, "unsigned")
    assert f'data-person="{charlie.pk}"' in unsigned
    assert f'data-person="{bob.pk}"' not in unsigned
    assert "Overdue</strong>" not in unsigned

    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        later = signed_in(client, harriet).get(reverse("training:dashboard"))
    assert "Overdue</strong>" in section(later, "unsigned")


def test_the_overdue_list_names_charlie_and_not_bob_who_passed(client, harriet, bob, charlie, alice, firm):
    pass_course(bob, firm)

    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        response = signed_in(client, harriet).get(reverse("training:dashboard"))

    overdue = section(response, "overdue")
    assert f'data-person="{charlie.pk}"' in overdue
    assert f'data-person="{bob.pk}"' not in overdue
    row = re.search(rf'data-person="{charlie.pk}">(.*?)</tr>', overdue, re.S).group(1)
    assert reverse("training:person", args=[charlie.pk]) in row
    assert '<td class="overdue-days">3</td>' in row
    assert "Alice Test" in row and "Corporate and M&amp;A" in row
    assert re.search(r'id="count-lapsed"><a [^>]*>1<', response.content.decode())


def test_the_department_filter_applies_to_the_whole_page(client, harriet, bob, charlie, firm):
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        response = signed_in(client, harriet).get(reverse("training:dashboard"), {"department": Department.LITIGATION})

    content = response.content.decode()
    assert re.search(r'id="count-people">1<', content)
    assert re.search(r'data-course="\d+" data-rate="0" data-done="0" data-total="1"', content)
    assert f'data-department="{Department.CORPORATE}"' not in content
    assert f'data-person="{bob.pk}"' in section(response, "overdue")
    assert f'data-person="{charlie.pk}"' not in section(response, "overdue")
    assert 'href="/training/manage/export.csv?department=litigation"' in content


def test_a_department_that_does_not_exist_is_named_and_the_whole_firm_shown(client, harriet, firm):
    signed_in(client, harriet)

    response = client.get(reverse("training:dashboard"), {"department": "astrology"})

    assert response.status_code == 200
    assert "Some filters were not understood" in visible_text(response)
    assert re.search(r'id="count-people">4<', response.content.decode())


@pytest.mark.parametrize("size", [2, 12])
def test_the_dashboard_sends_the_same_few_queries_whatever_the_size(
    client, harriet, django_assert_max_num_queries, size
):
    courses = [make_course(f"Course {n}") for n in range(size // 2)]
    people = [UserFactory(department=Department.values[n % 4], manager=harriet) for n in range(size)]
    for course in courses:
        assign(harriet, course, *people)
    pass_course(people[0], courses[0])
    services.publish_version(
        actor=harriet,
        document=make_policy_document(),
        text_en="Text.",
        text_zh="文本。",
        sign_by=timezone.localdate() + timedelta(days=3),
    )
    signed_in(client, harriet)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("training:dashboard"))
    assert response.status_code == 200
    with django_assert_max_num_queries(PEOPLE_QUERIES):
        assert client.get(reverse("training:people")).status_code == 200
    with django_assert_max_num_queries(RECORD_QUERIES):
        assert client.get(reverse("training:person", args=[people[0].pk])).status_code == 200
    with django_assert_max_num_queries(EXPORT_QUERIES):
        export(client)


# A signed-in request's own 7 (session, user, second factor, savepoint and its release, roles, the
# navigation's count) plus the page's reads: the dashboard 7 (people, statuses, the charts and their titles, two lists),
# the people list 5, a record 7, the export 2 and its audit event. Nothing is read per row or per bar.
DASHBOARD_QUERIES = 14
PEOPLE_QUERIES = 12
RECORD_QUERIES = 14
EXPORT_QUERIES = 10


# --- The export ------------------------------------------------------------------------------


def test_the_export_is_excel_ready_chinese_safe_and_audited(client, harriet, bob, charlie, firm):
    pass_course(bob, firm)
    charlie.first_name = '=HYPERLINK("http://evil.example")'
    charlie.save()
    signed_in(client, harriet)

    response, content = export(client)

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0] == [
        "username", "full name", "department", "manager", "item kind", "item title", "item title (Chinese)",
        "version", "assigned on", "due on", "status", "completed on", "valid until",
    ]  # fmt: skip
    by_person = {row[0]: row for row in rows[1:]}
    assert len(rows) - 1 == 2
    assert by_person["bob"][1:8] == ["Bob Test", "Litigation", "Alice Test", "course", "Confidentiality duties",
                                     "保密义务", "1"]  # fmt: skip
    assert by_person["bob"][10] == "completed"
    assert by_person["bob"][11] == timezone.localdate().isoformat()
    assert by_person["bob"][12] > timezone.localdate().isoformat()
    assert by_person["charlie"][1].startswith("'=HYPERLINK")
    assert by_person["charlie"][10] == "open"
    assert by_person["charlie"][11:] == ["", ""]

    event = AuditEvent.objects.get(action=AuditAction.TRAINING_EXPORT)
    assert event.actor_id == harriet.pk
    assert event.record["detail"] == {"rows": 2, "department": ""}


def test_the_export_follows_the_department_filter(client, harriet, bob, charlie, firm):
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        _response, content = export(signed_in(client, harriet), department=Department.CORPORATE)

    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))[1:]
    assert [(row[0], row[10]) for row in rows] == [("charlie", "overdue")]
    event = AuditEvent.objects.get(action=AuditAction.TRAINING_EXPORT)
    assert event.record["detail"] == {"rows": 1, "department": Department.CORPORATE}


def test_an_export_with_a_department_that_does_not_exist_exports_nothing(client, harriet, firm):
    signed_in(client, harriet)

    response = client.get(reverse("training:export"), {"department": "astrology"}, follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("training:dashboard"))
    assert "Nothing was exported" in visible_text(response)
    assert not AuditEvent.objects.filter(action=AuditAction.TRAINING_EXPORT).exists()


# --- The people list -------------------------------------------------------------------------


def test_the_people_list_filters_by_status_and_department(client, dana, bob, charlie, harriet, firm):
    pass_course(bob, firm)

    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        signed_in(client, dana)
        everyone = client.get(reverse("training:people"))
        lapsed = client.get(reverse("training:people"), {"status": "lapsed"})
        compliant_litigation = client.get(
            reverse("training:people"), {"status": "compliant", "department": Department.LITIGATION}
        )

    assert f'data-person="{bob.pk}" data-status="compliant"' in everyone.content.decode()
    assert f'data-person="{charlie.pk}" data-status="lapsed"' in everyone.content.decode()
    listed = re.findall(r'data-person="(\d+)"', lapsed.content.decode())
    assert listed == [str(charlie.pk)]
    charlie_row = re.search(rf'data-person="{charlie.pk}".*?</tr>', lapsed.content.decode(), re.S).group(0)
    assert re.findall(r"<td>(\d+)</td>|overdue-label\">(\d+)<", charlie_row) == [("1", ""), ("", "1")]
    assert re.findall(r'data-person="(\d+)"', compliant_litigation.content.decode()) == [str(bob.pk)]


def test_the_people_list_is_paginated(client, harriet, monkeypatch):
    from training import dashboard_views

    monkeypatch.setattr(dashboard_views, "PEOPLE_PAGE_SIZE", 2)
    for n in range(3):
        UserFactory(username=f"staff{n}")
    signed_in(client, harriet)

    first = client.get(reverse("training:people"))
    second = client.get(reverse("training:people"), {"page": 2})

    assert "4 people" in visible_text(first)
    assert 'rel="next"' in first.content.decode()
    assert len(re.findall(r'data-person="', first.content.decode())) == 2
    assert len(re.findall(r'data-person="', second.content.decode())) == 2


# --- A person's record -----------------------------------------------------------------------


def test_bob_sees_his_own_record_with_attempts_certificate_and_signature(client, harriet, bob, firm):
    services.submit_attempt(
        user=bob, attempt_id=services.start_attempt(user=bob, course=firm).pk, answers=answer_key(firm, wrong=2)
    )
    passed = pass_course(bob, firm)
    version = services.publish_version(
        actor=harriet,
        document=make_policy_document(),
        text_en="I keep secrets.",
        text_zh="我保守秘密。",
        sign_by=timezone.localdate() + timedelta(days=7),
    )
    services.sign_version(
        user=bob, version=version, typed_name="Test Bob", confirmed=True, language="zh-hans", ip_address="192.0.2.9"
    )
    signed_in(client, bob)

    response = client.get(reverse("training:person", args=[bob.pk]))

    assert response.status_code == 200
    text = visible_text(response)
    assert "My training record" in text
    attempts = section(response, "attempts")
    assert attempts.count("<tr>") == 3  # the header and two attempts
    assert "0%" in attempts and "100%" in attempts and "Not passed" in attempts
    assert reverse("training:certificate", args=[passed.completion.pk]) in section(response, "completions")
    signatures = section(response, "signatures")
    assert "Test Bob" in signatures and "192.0.2.9" in signatures and "简体中文" in signatures
    assert version.hash_zh in signatures
    assert "Matches the version" in signatures
    assert 'data-status="completed"' in section(response, "current")
    # HR's sub-navigation is not offered to Bob.
    assert reverse("training:people") not in response.content.decode()


def test_a_signature_whose_version_text_changed_is_flagged(client, harriet, bob, firm):
    version = services.publish_version(
        actor=harriet,
        document=make_policy_document(),
        text_en="I keep secrets.",
        text_zh="我保守秘密。",
        sign_by=timezone.localdate() + timedelta(days=7),
    )
    services.sign_version(user=bob, version=version, typed_name="Bob Test", confirmed=True, language="en")
    # Someone rewrites the stored text behind the application's back.
    DocumentVersion.objects.filter(pk=version.pk).update(
        text_en="I keep nothing.", hash_en=text_hash("I keep nothing.")
    )
    signed_in(client, harriet)

    response = client.get(reverse("training:person", args=[bob.pk]))

    assert "Does not match the version" in section(response, "signatures")


def test_the_record_shows_earlier_rounds_and_reminders(client, harriet, charlie, firm):
    from training.jobs import run_daily

    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        run_daily()
        response = signed_in(client, harriet).get(reverse("training:person", args=[charlie.pk]))

    assert 'data-status="overdue"' in section(response, "current")
    reminders = section(response, "reminders")
    assert "Overdue" in reminders and "Escalated to the manager" in reminders
    assert "Lapsed" in section(response, "person")


# --- Who may see what ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["bob", "adam", "root"])
def test_others_find_no_dashboard_export_people_or_someone_else_s_record(client, request, charlie, firm, persona):
    user = request.getfixturevalue(persona)
    signed_in(client, user)

    for url in (
        reverse("training:dashboard"),
        reverse("training:export"),
        reverse("training:people"),
        reverse("training:person", args=[charlie.pk]),
    ):
        assert client.get(url).status_code == 404, (persona, url)
    assert not AuditEvent.objects.filter(action=AuditAction.TRAINING_EXPORT).exists()


@pytest.mark.parametrize("persona", ["harriet", "dana"])
def test_hr_and_the_security_officer_read_everything(client, request, charlie, firm, persona):
    signed_in(client, request.getfixturevalue(persona))

    for url in (
        reverse("training:dashboard"),
        reverse("training:people"),
        reverse("training:person", args=[charlie.pk]),
    ):
        assert client.get(url).status_code == 200, (persona, url)
    export(client)


def test_a_record_of_nobody_is_404(client, harriet):
    signed_in(client, harriet)

    assert client.get(reverse("training:person", args=[999_999])).status_code == 404


def test_a_manager_reads_the_record_of_a_report_they_are_told_is_overdue(client, alice, bob, charlie, firm):
    """The escalation links Alice to Bob's record: she may read her reports' records, not others'."""
    bob.manager = alice
    bob.save()
    charlie.manager = None
    charlie.save()
    signed_in(client, alice)

    assert client.get(reverse("training:person", args=[bob.pk])).status_code == 200
    assert client.get(reverse("training:person", args=[charlie.pk])).status_code == 404
