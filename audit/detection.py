"""Detection rules over new audit events: the periodic job ``audit.detect`` (every minute).

Only chained events are read, in chain order, from where the last run stopped
(``DetectionCursor``). Each batch's alerts and the cursor's move are one
transaction, so a run that fails leaves nothing half done and a second run
finds nothing new. The rules:

- ``bulk_download``: a successful document download by a person whose
  downloads within ``bulk_download_minutes`` (ending at that download) number
  more than ``bulk_download_count``.
- ``denial_burst``: a refusal (any action) of a person — or, with no person,
  of one IP address — with at least ``denial_burst_count`` refusals within
  ``denial_burst_minutes``.
- ``off_hours``: a person's successful use of a matter classified at least
  ``off_hours_min_classification``, at a local time (the settings' time zone)
  outside ``work_starts`` to ``work_ends`` or on a day not in ``work_days``.
- ``departing_staff``: any event of a person whose employment status is
  departing (HIGH) or departed (CRITICAL).
- ``wall_breach``: a refusal recorded as an ethical wall's (detail ``screened``) —
  a screened person tried to open a walled matter or its documents (HIGH, per
  person and matter). Always on: it has no threshold.
- ``break_glass``: every emergency access (``access.break_glass`` succeeded), one
  alert each, naming the person and the matter (HIGH). Always on.

A window "within N minutes" ending at an event at time t holds the events of
``(t - N minutes, t]``. The window rules count over all events in that span,
not only the new ones, so a burst split across two runs is still seen.
"""

from __future__ import annotations

import bisect
import datetime
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import AuditAction, Outcome
from audit.alerts import DEPARTED, DEPARTING, Finding, detection_time_zone, raise_alert, severity_for_departure
from audit.chain import chain_pending_events
from audit.models import AuditEvent, AuditLink, DetectionCursor, DetectionSettings, Rule, Severity

BATCH_SIZE = 1000


def run_detection(now: datetime.datetime | None = None) -> dict[str, int]:
    """Chain what is pending, then run every enabled rule over the events not yet looked at.

    Returns counts for the job record: events read, alerts raised, alerts added to.
    """
    chain_pending_events(now=now)
    now = now or timezone.now()
    config = DetectionSettings.current()
    DetectionCursor.objects.get_or_create(pk=1)
    counts: Counter[str] = Counter(events=0, raised=0, merged=0)
    while True:
        with transaction.atomic():
            # Another run holding the cursor is doing this work already.
            cursor = DetectionCursor.objects.select_for_update(skip_locked=True).filter(pk=1).first()
            if cursor is None:
                counts["busy"] = 1
                break
            links = list(
                AuditLink.objects.filter(seq__gt=cursor.last_seq).select_related("event").order_by("seq")[:BATCH_SIZE]
            )
            if not links:
                break
            for finding in detect([link.event for link in links], config):
                _alert, created = raise_alert(finding, now=now)
                counts["raised" if created else "merged"] += 1
            cursor.last_seq, cursor.updated_at = links[-1].seq, now
            cursor.save(update_fields=["last_seq", "updated_at"])
        counts["events"] += len(links)
        if len(links) < BATCH_SIZE:
            break
    return dict(counts)


def detect(events: list[AuditEvent], config: DetectionSettings) -> list[Finding]:
    """What the enabled rules find in ``events`` (in chain order): one finding per rule and subject
    (and matter, for the rules about one), one per event for emergency access."""
    findings: list[Finding] = []
    if config.bulk_download_enabled:
        findings += bulk_downloads(events, config)
    if config.denial_burst_enabled:
        findings += denial_bursts(events, config)
    if config.off_hours_enabled:
        findings += off_hours(events, config)
    if config.departing_staff_enabled:
        findings += departing_staff(events)
    # No setting turns these off: a wall's breach and emergency access are always worth a look.
    findings += wall_breaches(events)
    findings += break_glass(events)
    return findings


# --- The rules ----------------------------------------------------------------------------


def bulk_downloads(events: list[AuditEvent], config: DetectionSettings) -> list[Finding]:
    new = [
        e
        for e in events
        if e.action == AuditAction.DOCUMENT_DOWNLOAD and e.outcome == Outcome.SUCCESS and e.actor_id is not None
    ]
    if not new:
        return []
    window = datetime.timedelta(minutes=config.bulk_download_minutes)
    history = _history(
        Q(action=AuditAction.DOCUMENT_DOWNLOAD, outcome=Outcome.SUCCESS, actor_id__in={e.actor_id for e in new}),
        new,
        window,
        key=lambda actor_id, _ip: actor_id,
    )
    facts = {"minutes": config.bulk_download_minutes, "threshold": config.bulk_download_count}
    return _window_findings(
        _group(new, lambda e: e.actor_id),
        history,
        window,
        fires=lambda count: count > config.bulk_download_count,
        rule=Rule.BULK_DOWNLOAD,
        severity=Severity.HIGH,
        facts=facts,
    )


def denial_bursts(events: list[AuditEvent], config: DetectionSettings) -> list[Finding]:
    new = [e for e in events if e.outcome == Outcome.DENIED and (e.actor_id is not None or e.ip_address)]
    if not new:
        return []
    window = datetime.timedelta(minutes=config.denial_burst_minutes)
    people = {e.actor_id for e in new if e.actor_id is not None}
    addresses = {e.ip_address for e in new if e.actor_id is None}
    history = _history(
        Q(outcome=Outcome.DENIED) & (Q(actor_id__in=people) | Q(actor__isnull=True, ip_address__in=addresses)),
        new,
        window,
        key=_subject_key,
    )
    facts = {"minutes": config.denial_burst_minutes, "threshold": config.denial_burst_count}
    return _window_findings(
        _group(new, lambda e: _subject_key(e.actor_id, e.ip_address)),
        history,
        window,
        fires=lambda count: count >= config.denial_burst_count,
        rule=Rule.DENIAL_BURST,
        severity=Severity.HIGH,
        facts=facts,
    )


def off_hours(events: list[AuditEvent], config: DetectionSettings) -> list[Finding]:
    zone = detection_time_zone(config)
    work_days = set(config.work_days)
    outside: dict[tuple, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.outcome != Outcome.SUCCESS or event.actor_id is None or event.matter_id is None:
            continue
        classification = event.record.get("classification")
        if classification is None or classification < config.off_hours_min_classification:
            continue
        local = event.occurred_at.astimezone(zone)
        if local.weekday() in work_days and config.work_starts <= local.time() < config.work_ends:
            continue
        outside[(event.actor_id, event.matter_id)].append(event)
    findings = []
    for (actor_id, matter_id), mine in outside.items():
        latest = mine[-1].occurred_at.astimezone(zone)
        finding = _finding(Rule.OFF_HOURS, Severity.MEDIUM, mine, actor_id=actor_id)
        finding.matter_id, finding.matter_number = matter_id, mine[-1].record.get("matter_number") or ""
        finding.facts = {
            "local_time": latest.strftime("%H:%M"),
            "weekday": latest.weekday(),
            "time_zone": str(zone.key),
            "min_classification": config.off_hours_min_classification,
        }
        findings.append(finding)
    return findings


def departing_staff(events: list[AuditEvent]) -> list[Finding]:
    by_actor = _group([e for e in events if e.actor_id is not None], lambda e: e.actor_id)
    if not by_actor:
        return []
    # One read of the people's status for the whole batch.
    leaving = dict(
        get_user_model()
        .objects.filter(pk__in=by_actor, employment_status__in=(DEPARTING, DEPARTED))
        .values_list("pk", "employment_status")
    )
    findings = []
    for actor_id, status in leaving.items():
        finding = _finding(Rule.DEPARTING_STAFF, severity_for_departure(status), by_actor[actor_id], actor_id=actor_id)
        finding.facts = {"employment_status": status}
        findings.append(finding)
    return findings


def wall_breaches(events: list[AuditEvent]) -> list[Finding]:
    by_subject: dict[tuple, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.outcome != Outcome.DENIED or event.actor_id is None:
            continue
        if (event.record.get("detail") or {}).get("screened") is True:
            by_subject[(event.actor_id, event.matter_id)].append(event)
    findings = []
    for (actor_id, matter_id), mine in by_subject.items():
        finding = _finding(Rule.WALL_BREACH, Severity.HIGH, mine, actor_id=actor_id)
        # What was tried is in the events themselves (the alert links them); the alert counts them.
        finding.matter_id, finding.matter_number = matter_id, mine[-1].record.get("matter_number") or ""
        findings.append(finding)
    return findings


def break_glass(events: list[AuditEvent]) -> list[Finding]:
    findings = []
    for event in events:
        if event.action != AuditAction.BREAK_GLASS or event.outcome != Outcome.SUCCESS or event.actor_id is None:
            continue
        finding = _finding(Rule.BREAK_GLASS, Severity.HIGH, [event], actor_id=event.actor_id)
        finding.matter_id, finding.matter_number = event.matter_id, event.record.get("matter_number") or ""
        detail = event.record.get("detail") or {}
        # Identifiers and times only (access.break_glass): the person's written reason is not in the event.
        finding.facts = {key: detail[key] for key in ("break_glass_id", "hours", "expires_at") if key in detail}
        findings.append(finding)
    return findings


# --- Windows ------------------------------------------------------------------------------

Key = tuple


def _subject_key(actor_id: int | None, ip: str | None) -> Key:
    return ("person", actor_id) if actor_id is not None else ("address", ip)


def _group(events: Iterable[AuditEvent], key: Callable[[AuditEvent], object]) -> dict:
    groups: dict = defaultdict(list)
    for event in events:
        groups[key(event)].append(event)
    return groups


def _history(
    condition: Q, new: list[AuditEvent], window: datetime.timedelta, *, key: Callable
) -> dict[object, list[tuple[datetime.datetime, int]]]:
    """Every event matching ``condition`` in the span the new events' windows cover, by subject,
    sorted by time: one query per rule and batch."""
    start = min(e.occurred_at for e in new) - window
    end = max(e.occurred_at for e in new)
    rows = AuditEvent.objects.filter(condition, occurred_at__gt=start, occurred_at__lte=end).values_list(
        "actor_id", "ip_address", "occurred_at", "id"
    )
    history: dict = defaultdict(list)
    for actor_id, ip, occurred_at, event_id in rows:
        history[key(actor_id, ip)].append((occurred_at, event_id))
    for entries in history.values():
        entries.sort()
    return history


def _window_findings(
    new_by_subject: dict, history: dict, window: datetime.timedelta, *, fires, rule, severity, facts
) -> list[Finding]:
    """For each subject, the windows ending at its new events that make the rule fire, merged into one finding."""
    findings = []
    for subject, mine in new_by_subject.items():
        entries = history.get(subject, [])
        times = [at for at, _id in entries]
        hit_ids: set[int] = set()
        largest = 0
        for event in mine:
            low = bisect.bisect_right(times, event.occurred_at - window)
            high = bisect.bisect_right(times, event.occurred_at)
            if fires(high - low):
                hit_ids.update(event_id for _at, event_id in entries[low:high])
                largest = max(largest, high - low)
        if not hit_ids:
            continue
        in_window = [at for at, event_id in entries if event_id in hit_ids]
        first = mine[0]
        findings.append(
            Finding(
                rule=rule,
                severity=severity,
                event_ids=hit_ids,
                window_start=min(in_window),
                window_end=max(in_window),
                subject_id=first.actor_id,
                subject_username=(first.record.get("actor") or "") if first.actor_id is not None else "",
                facts={**facts, "count": largest, **({"ip": str(first.ip_address)} if first.actor_id is None else {})},
            )
        )
    return findings


def _finding(rule: str, severity: int, events: list[AuditEvent], *, actor_id: int) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        event_ids={e.id for e in events},
        window_start=min(e.occurred_at for e in events),
        window_end=max(e.occurred_at for e in events),
        subject_id=actor_id,
        subject_username=events[0].record.get("actor") or "",
    )
