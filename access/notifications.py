"""Notifications: in the app, and by e-mail (console in the demo, SMTP in production).

A notification is stored as a kind and parameters and worded when shown, in the
reader's language. E-mail carries both English and Simplified Chinese (the firm's
two languages; nobody has a language preference on record) and never the
free-text reasons people type — those may name a client, and e-mail leaves the
firm's systems — only matter numbers, levels and dates, with a link to the app.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access.models import GrantLevel, Notification, NotificationKind, User

logger = logging.getLogger(__name__)


def notify(recipients: Iterable[User], kind: NotificationKind, params: dict | None = None, url: str = "") -> int:
    """Tell each recipient (once, however often listed); returns how many were told.

    Rows are written in the caller's transaction; e-mail goes after it commits,
    so a rolled-back decision never announces itself.
    """
    people = {person.pk: person for person in recipients if person is not None and person.is_active}
    return notify_many([(person, kind, params or {}, url) for person in people.values()])


def notify_many(notes: list[tuple[User, NotificationKind, dict, str]]) -> int:
    """Many notifications, possibly of different kinds, at once (the daily job): one INSERT,
    and their e-mail queued after commit as one task per thousand."""
    notes = [note for note in notes if note[0].is_active]
    if not notes:
        return 0
    rows = Notification.objects.bulk_create(
        [Notification(recipient=person, kind=kind, params=params, url=url) for person, kind, params, url in notes],
        batch_size=1000,
    )
    ids = [row.pk for row, (person, *_rest) in zip(rows, notes, strict=True) if person.email]
    if ids:
        transaction.on_commit(lambda: _queue_emails(ids))
    return len(rows)


def _queue_emails(ids: list[int]) -> None:
    from access.tasks import send_notification_emails

    for start in range(0, len(ids), 1000):
        send_notification_emails.delay(ids[start : start + 1000])


def send_emails_for(notification_ids: list[int]) -> int:
    """Send the e-mail of these notifications over one connection; returns how many were sent.

    Each is marked as it leaves, so a retry after a failure part-way (``OSError``
    propagates, for the task to retry) sends only the rest.
    """
    notes = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("recipient")
    outgoing = [
        (note.pk, _email(note.recipient.email, note.kind, note.params, note.url))
        for note in notes
        if note.recipient.email
    ]
    sent: list[int] = []
    try:
        with get_connection() as connection:
            for pk, mail in outgoing:
                if connection.send_messages([mail]):
                    sent.append(pk)
    finally:
        Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    return len(sent)


def message(kind: str, params: dict) -> str:
    """The notification's sentence in the active language."""
    values = {**params}
    if "level" in values:
        values["level"] = level_label(values["level"]).lower()
    if "until" in values:
        values["until"] = _moment(values["until"])
    for key in ("due", "closes"):
        if key in values:
            values[key] = _date(values[key])
    if values.get("title_zh") and (translation.get_language() or "").lower().startswith("zh"):
        values["title"] = values["title_zh"]
    wording = {
        NotificationKind.REQUEST_SUBMITTED: _("%(requester)s asks for %(level)s access to matter %(number)s."),
        NotificationKind.REQUEST_NEEDS_SECOND: _(
            "%(approver)s approved %(requester)s's request for matter %(number)s; a second approval is needed."
        ),
        NotificationKind.REQUEST_APPROVED: _(
            "Your request for %(level)s access to matter %(number)s was approved, until %(until)s."
        ),
        NotificationKind.REQUEST_DENIED: _("Your request for access to matter %(number)s was denied."),
        NotificationKind.REQUEST_LAPSED: _(
            "Your request for access to matter %(number)s lapsed: nobody decided it in time. You may ask again."
        ),
        NotificationKind.GRANT_ADDED: _("%(approver)s gave you %(level)s access to matter %(number)s."),
        NotificationKind.GRANT_EXPIRING: _(
            "Your %(level)s access to matter %(number)s ends at the end of %(until)s. "
            "Ask for a renewal if you still need it."
        ),
        NotificationKind.GRANT_REVOKED: _("Your access to matter %(number)s was revoked."),
        NotificationKind.TEAM_GRANT_EXPIRING: _(
            "The %(level)s access of team %(team)s to matter %(number)s ends at the end of %(until)s. "
            "Extend it on the matter's team page if the team still needs it."
        ),
        NotificationKind.TRAINING_ASSIGNED: _("“%(title)s” has been assigned to you, due on %(due)s."),
        NotificationKind.TRAINING_REMINDER: _("Reminder: “%(title)s” is due on %(due)s."),
        NotificationKind.TRAINING_OVERDUE: _(
            "“%(title)s” was due on %(due)s and is overdue. "
            "Confidential matters stay closed to you until you complete it."
        ),
        NotificationKind.TRAINING_ESCALATION: _("%(person)s has not completed “%(title)s”, which was due on %(due)s."),
        NotificationKind.DEPARTURE: ngettext(
            "%(person)s has left the firm: %(count)d grant was revoked and their sessions ended.",
            "%(person)s has left the firm: %(count)d grants were revoked and their sessions ended.",
            int(params.get("count") or 0),
        ),
        NotificationKind.WALL_MEMO: _wall_memo(params),
        NotificationKind.WALL_REVOKED: _(
            "Your access to matter %(number)s was revoked: an ethical wall was erected around it."
        ),
        NotificationKind.BREAK_GLASS: _(
            "%(person)s opened matter %(number)s in an emergency, with access until %(until)s. "
            "Review the emergency access."
        ),
        NotificationKind.REVIEW_ASSIGNED: ngettext(
            "Access review “%(name)s”: %(count)d grant awaits your decision by %(closes)s. "
            "Confirm or revoke it; an unconfirmed grant is revoked when the review closes.",
            "Access review “%(name)s”: %(count)d grants await your decision by %(closes)s. "
            "Confirm or revoke each; unconfirmed grants are revoked when the review closes.",
            int(params.get("count") or 0),
        ),
    }.get(kind)
    if wording is None:
        return ""
    try:
        return wording % values
    except (KeyError, TypeError, ValueError):
        logger.warning("notification %s is missing parameters", kind)
        return str(NotificationKind(kind).label)


def _wall_memo(params: dict) -> str:
    """An ethical wall's memo notice: which way the wall works, around a matter or a whole client."""
    inclusionary = params.get("kind") == "inclusionary"
    if "client" in params and "number" not in params:
        if inclusionary:
            return _(
                "An ethical wall lets only the people it names work on the matters of client %(client)s, "
                "and it names you. Read its memo and acknowledge it."
            )
        return _(
            "An ethical wall now keeps you from every matter of client %(client)s. Read its memo and acknowledge it."
        )
    if inclusionary:
        return _(
            "An ethical wall lets only the people it names work on matter %(number)s, and it names you. "
            "Read its memo and acknowledge it."
        )
    return _("An ethical wall now keeps you from matter %(number)s. Read its memo and acknowledge it.")


def level_label(value: str) -> str:
    """A grant level's name in the active language (a stored value from an older release as is)."""
    try:
        return str(GrantLevel(value).label)
    except ValueError:
        return str(value)


def _moment(value: str) -> str:
    """A date, or a date and time ("2026-03-02T14:00+08:00": emergency access ends within hours)."""
    parsed = parse_datetime(value) if isinstance(value, str) and len(value) > len("2026-03-02") else None
    if parsed is None:
        return _date(value)
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return date_format(parsed, "DATETIME_FORMAT")


def _date(value: str) -> str:
    parsed = parse_date(value) if isinstance(value, str) else value
    return date_format(parsed, "DATE_FORMAT") if parsed else str(value)


def _email(address: str, kind: str, params: dict, url: str) -> EmailMessage:
    parts, subjects = [], []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            subjects.append(str(NotificationKind(kind).label))
            parts.append(message(kind, params))
    link = f"{settings.SITE_URL}{url}" if url else settings.SITE_URL
    body = "\n\n".join(parts) + (f"\n\n{link}\n" if link else "\n")
    return EmailMessage(f"Custos: {subjects[0]} / {subjects[1]}", body, to=[address])
