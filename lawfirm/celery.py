"""The Celery application.

With ``REDIS_URL`` set, tasks go to Redis and a worker runs them; without it
(the demo, most tests) settings turn on eager mode and tasks run in-process.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lawfirm.settings")

app = Celery("lawfirm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
