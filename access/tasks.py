"""Celery tasks of the access app: thin, taking ids (CONVENTIONS.md, "Tasks are thin")."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_notification_emails(self, notification_ids: list[int]) -> int:
    """E-mail these notifications; a mail server that fails is tried again later.

    Run outside the request (or job) that created them, so a slow or unreachable
    mail server never holds up a page. In eager mode (the demo) a failure is
    logged and not retried: the notification is in the app either way.
    """
    from access.notifications import send_emails_for

    try:
        return send_emails_for(notification_ids)
    except OSError as exc:
        if self.request.is_eager:
            logger.exception("could not send %d notification e-mails", len(notification_ids))
            return 0
        raise self.retry(exc=exc) from exc
