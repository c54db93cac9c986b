"""Time the matter list view of one source tree against one database (run by ``bench.vault``).

    python bench/list_probe.py TREE DATABASE_URL ITERATIONS WARMUP

Runs in a process of its own with ``TREE`` first on the path, so the same
measurement times the code before the vault (a git worktree of the last commit
before it) and the code now. Uses only what ``bench.run`` offered then and
offers now: ``choose_subjects``, ``signed_in_client``, ``_get``. Prints one JSON
line: milliseconds per request, by case.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    tree, url, iterations, warmup = argv[0], argv[1], int(argv[2]), int(argv[3])
    # sys.path[0] is this file's folder (bench/), whose audit.py and vault.py would shadow the apps.
    sys.path[0] = tree
    os.chdir(tree)
    from bench.generate import setup_django

    setup_django(url)
    from django.urls import reverse

    from bench.run import _get, choose_subjects, signed_in_client

    subjects = choose_subjects()
    typical, low = subjects.typical, subjects.low
    clients = {user.pk: signed_in_client(user) for user in [*typical, low]}
    list_url = reverse("matters:list")
    samples: dict[str, list[float]] = {"view.list.typical": [], "view.list.low": []}
    for round_ in range(warmup + iterations):
        for name, user in (("view.list.typical", typical[round_ % len(typical)]), ("view.list.low", low)):
            started = time.perf_counter()
            _get(clients[user.pk], list_url)
            if round_ >= warmup:
                samples[name].append((time.perf_counter() - started) * 1000)
    print(json.dumps(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
