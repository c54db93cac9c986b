"""The SIEM feed: each event as one JSON line, the same bytes as stored, to a file or syslog when configured."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from audit.actions import AuditAction, Outcome
from audit.events import record_event
from audit.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def test_each_event_goes_to_the_feed_as_its_stored_bytes(alice, matter, caplog):
    caplog.set_level(logging.INFO, logger="custos.audit.siem")
    record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter, outcome=Outcome.DENIED, reason="No.")

    lines = [r.getMessage() for r in caplog.records if r.name == "custos.audit.siem"]
    stored = AuditEvent.objects.get(action=AuditAction.MATTER_VIEW, actor=alice)
    assert lines == [bytes(stored.payload).decode()]
    fields = json.loads(lines[0])
    assert (fields["actor"], fields["outcome"], fields["matter_number"]) == ("alice", "denied", matter.number)


def test_the_feed_writes_one_json_line_per_event_to_the_configured_file(tmp_path):
    feed = tmp_path / "audit.jsonl"
    script = (
        "import django, logging; django.setup();"
        "logging.getLogger('custos.audit.siem').info('{\"action\":\"auth.sign_in\"}');"
        "logging.getLogger('custos.audit.siem').info('{\"action\":\"auth.sign_out\"}')"
    )
    env = {
        **os.environ,
        "CUSTOS_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "lawfirm.settings",
        "AUDIT_SIEM_FILE": str(feed),
    }
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)  # noqa: S603

    lines = feed.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["auth.sign_in", "auth.sign_out"]


def test_without_a_configured_feed_nothing_is_written_anywhere_else(tmp_path):
    script = (
        "import django, logging; django.setup();"
        "print(logging.getLogger('custos.audit.siem').handlers, logging.getLogger('custos.audit.siem').propagate)"
    )
    env = {**os.environ, "CUSTOS_ENV": "test", "DJANGO_SETTINGS_MODULE": "lawfirm.settings"}
    env.pop("AUDIT_SIEM_FILE", None)
    env.pop("AUDIT_SIEM_SYSLOG", None)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60,  # noqa: S603
                         capture_output=True, text=True).stdout  # fmt: skip
    assert "NullHandler" in out
    assert out.strip().endswith("False")  # not passed on to the console log
