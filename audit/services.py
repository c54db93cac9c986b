"""State-changing operations of the audit app (one function each)."""

from __future__ import annotations

from audit.chain import chain_pending_events


def chain_events() -> dict[str, int]:
    """The periodic job: link the events recorded since the last run into the chain."""
    return chain_pending_events().as_counts()
