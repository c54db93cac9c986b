"""Many writers, several sequencers, one chain: PostgreSQL under real concurrency.

Each thread has its own database connection (and closes it at the end), so
these tests run outside the test transaction.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from audit import chain
from audit.chain import chain_pending_events, pending_count
from audit.models import AuditEvent, AuditLink, VerificationStatus
from audit.verification import verify_audit_trail
from tests.audit.test_chain import chain_from, next_event_id, record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_gap_grace(settings):
    """Sequences are not reset between tests: the first event's id follows a gap."""
    settings.AUDIT_GAP_GRACE_SECONDS = 0


WRITERS = 8
EVENTS_PER_WRITER = 500
SEQUENCERS = 3


class Threads:
    """Start functions in threads, each closing its connection; re-raise the first failure."""

    def __init__(self):
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, function, *args) -> threading.Thread:
        def run():
            try:
                function(*args)
            except BaseException as exc:
                self.errors.append(exc)
                raise
            finally:
                connection.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def join(self, timeout: float = 60) -> None:
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a thread did not finish"
        if self.errors:
            raise self.errors[0]


class Inside:
    """Counts sequencers between taking the lock and writing their links (the whole
    critical section but the commit), and remembers the most ever seen at once."""

    def __init__(self, monkeypatch):
        self.now = self.most = self.batches = 0
        self.mutex = threading.Lock()
        take, write = chain._take_sequencer_lock, chain._insert_links

        def taking():
            taken = take()
            if taken:
                with self.mutex:
                    self.now += 1
                    self.most = max(self.most, self.now)
                    self.batches += 1
                time.sleep(0.001)  # widen the window an overlap would show in
            return taken

        def writing(links, *args, **kwargs):
            try:
                return write(links, *args, **kwargs)
            finally:
                with self.mutex:
                    self.now -= 1

        monkeypatch.setattr(chain, "_take_sequencer_lock", taking)
        monkeypatch.setattr(chain, "_insert_links", writing)


def test_eight_writers_and_three_sequencers_give_one_gapless_chain(settings, monkeypatch):
    chain_from(next_event_id())  # a chain whose head is the last id the sequence gave out
    # In-flight inserts make short-lived id gaps: the sequencer must wait for them, not pass them.
    settings.AUDIT_GAP_GRACE_SECONDS = 10
    inside = Inside(monkeypatch)
    writing_done = threading.Event()
    results: list[chain.ChainResult] = []

    def write():
        for _n in range(EVENTS_PER_WRITER // 50):
            record(50)

    def sequence():
        while not writing_done.is_set():
            results.append(chain_pending_events(batch_size=250))
            time.sleep(0.002)

    sequencers, writers = Threads(), Threads()
    for _n in range(SEQUENCERS):
        sequencers.start(sequence)
    for _n in range(WRITERS):
        writers.start(write)
    writers.join()
    writing_done.set()
    sequencers.join()
    last = chain_pending_events()

    total = WRITERS * EVENTS_PER_WRITER
    links = list(AuditLink.objects.order_by("seq").values_list("seq", "event_id"))
    assert [seq for seq, _e in links] == list(range(1, total + 2))
    events = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert [event for _s, event in links] == events
    assert events[-1] - events[0] == total  # no id was skipped: every gap was waited for
    assert pending_count() == 0
    # Everything was chained exactly once, most of it while the writers were still writing.
    assert sum(r.chained for r in results) + last.chained == total
    assert sum(r.chained for r in results) > total // 2
    assert not last.waiting_for_gap
    assert inside.most == 1
    run = verify_audit_trail()
    assert (run.status, run.records_checked) == (VerificationStatus.PASSED, total + 1)


def test_a_sequencer_finds_the_lock_taken_and_chains_nothing():
    record(5)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic():
            assert chain._take_sequencer_lock()
            held.set()
            release.wait(10)

    threads = Threads()
    threads.start(hold_the_lock)
    assert held.wait(10)
    try:
        result = chain_pending_events()
        assert (result.busy, result.chained) == (True, 0)
        assert AuditLink.objects.count() == 0
    finally:
        release.set()
        threads.join()
    # The lock lasts only as long as its holder's transaction.
    result = chain_pending_events()
    assert (result.busy, result.chained) == (False, 5)


def test_a_sequencer_at_work_keeps_the_next_one_out(monkeypatch):
    record(5)
    inside, release = threading.Event(), threading.Event()
    write = chain._insert_links
    worker: list[threading.Thread] = []

    def slow_write(links, *args, **kwargs):
        if threading.current_thread() in worker:
            inside.set()
            release.wait(10)
        return write(links, *args, **kwargs)

    monkeypatch.setattr(chain, "_insert_links", slow_write)
    outcome: list[chain.ChainResult] = []
    threads = Threads()
    worker.append(threads.start(lambda: outcome.append(chain_pending_events())))
    assert inside.wait(10)
    try:
        second = chain_pending_events()
        assert (second.busy, second.chained) == (True, 0)
    finally:
        release.set()
        threads.join()
    assert (outcome[0].busy, outcome[0].chained) == (False, 5)
    assert list(AuditLink.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]


def test_a_failed_batch_releases_the_lock(monkeypatch):
    record(3)

    def failing(links, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(chain, "_insert_links", failing)
    with pytest.raises(RuntimeError):
        chain_pending_events()
    monkeypatch.undo()
    assert AuditLink.objects.count() == 0
    result = chain_pending_events()
    assert (result.busy, result.chained) == (False, 3)
