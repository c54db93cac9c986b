"""Model change history through django-auditlog, with client information masked.

Which models keep a history, and which of their fields hold client
information, is declared once in :mod:`lawfirm.sensitive`; this module only
turns that declaration into auditlog registrations. A masked field's change is
still recorded (the field name, with both values replaced by :data:`MASK`), on
create, update and delete alike, so the history says *that* a title changed
but never what it said.

What else lands in a log entry, and why none of it carries client information:

- ``object_repr`` is ``str(instance)``: a client's code, a matter's number, a
  party's role and matter number, a document's id (see each model's ``__str__``).
- Foreign keys are recorded as primary keys (``AUDITLOG_USE_FK_STRING_REPRESENTATION``
  left off), so a party's change names its matter by id, not by title.
- ``serialized_data`` stays off: a snapshot would repeat the diff's fields for
  no benefit, and auditlog masks only the string values in it.
- ``additional_data`` comes from an instance's ``get_additional_data()``; no
  tracked model defines one.

This history is the safety net, not the record: it misses ``QuerySet.update()``
and ``bulk_*`` (CONVENTIONS.md, "Writes go through services").
"""

from __future__ import annotations

from django.apps import apps

from lawfirm.sensitive import TRACKED_MODELS, sensitive_fields

# The same for every value, whatever its length, so not even a length or a first
# letter is kept.
MASK = "••••••"
MASK_CALLABLE = "audit.history.mask"


def mask(value: str) -> str:
    """auditlog's mask callable (``AUDITLOG_MASK_CALLABLE``): the whole value goes."""
    return MASK


def track_models() -> None:
    """Register every model of ``TRACKED_MODELS`` with django-auditlog.

    The mask callable is named on each registration rather than left to the
    ``AUDITLOG_MASK_CALLABLE`` setting, so that a missing setting cannot fall
    back to auditlog's default, which keeps half of each value.
    """
    from auditlog.registry import auditlog

    for label, history in TRACKED_MODELS.items():
        auditlog.register(
            apps.get_model(label),
            mask_fields=list(sensitive_fields(label)),
            mask_callable=MASK_CALLABLE,
            exclude_fields=list(history.exclude),
            m2m_fields=set(history.m2m),
        )


def unmasked_sensitive_fields() -> list[str]:
    """Sensitive fields that some auditlog registration would record in clear.

    Catches registrations made elsewhere (``AUDITLOG_INCLUDE_TRACKING_MODELS``,
    ``AUDITLOG_INCLUDE_ALL_MODELS``, a stray ``auditlog.register``) as well as
    a mask callable that is not :func:`mask`. For a system check.
    """
    from auditlog.diff import get_mask_function
    from auditlog.registry import auditlog

    problems = []
    for model in auditlog.get_models():
        label = model._meta.label_lower
        options = auditlog.get_model_fields(model)
        included = options["include_fields"] or None
        masked_here = get_mask_function(options["mask_callable"]) is mask
        for name in sensitive_fields(label):
            logged = name not in options["exclude_fields"] and (included is None or name in included)
            if logged and not (name in options["mask_fields"] and masked_here):
                problems.append(f"{label}.{name}")
    return problems
