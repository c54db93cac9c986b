"""Browser tests: Playwright driving Debian's ``chromium`` against pytest-django's ``live_server``.

Playwright's own browser downloads are never used (``playwright install`` cannot
reach its servers here): the system binary is launched instead. Without it the
tests skip with the command that installs it; CI turns that skip into a failure
through ``CUSTOS_REQUIRED_SUITES``.
"""

from __future__ import annotations

import shutil

import pytest

# Without the networking flags Chromium keeps trying to reach hosts this machine
# cannot reach (see NOTES.md, "Browser tests").
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Long enough for a first page on a loaded CI machine, short enough to fail fast.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian chromium is not installed: apt-get install -y --no-install-recommends chromium")
    return {**browser_type_launch_args, "executable_path": executable, "headless": True, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # An English-speaking browser: the journey switches language with the page's own switcher.
    return {**browser_context_args, "locale": "en-US", "accept_downloads": True}


@pytest.fixture
def page(page):
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's base URL. Test data is committed (no wrapping transaction), so the server thread sees it."""
    return live_server.url
