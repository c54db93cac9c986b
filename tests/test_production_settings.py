"""The production profile without its secrets: dev commands run, a server does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"CUSTOS_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL"}}
    base.update({"CUSTOS_ENV": "production", "DATABASE_URL": "sqlite:///:memory:", **env})
    return subprocess.run(  # noqa: S603 — this interpreter, our own arguments
        [sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120, check=False
    )


def test_makemigrations_runs_without_any_secret():
    result = _run("manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_the_deployment_check_names_the_missing_key_and_hosts():
    result = _run("manage.py", "check", "--deploy")
    assert result.returncode != 0
    assert "custos.E001" in result.stderr and "SECRET_KEY is not set" in result.stderr
    assert "custos.E002" in result.stderr


@pytest.mark.parametrize(("key", "starts"), [("", False), ("k" * 10 + "q7Zp" * 12 + "x", True)])
def test_the_web_server_refuses_to_boot_without_a_key(key, starts):
    result = _run("-c", "import lawfirm.wsgi", SECRET_KEY=key, ALLOWED_HOSTS="custos.example.com")
    assert (result.returncode == 0) is starts, result.stderr
    if not starts:
        assert "The SECRET_KEY setting must not be empty." in result.stderr
