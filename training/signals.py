"""Joiners receive what the rules in force ask of them as soon as they join.

A signal, against the habit of explicit service calls, because the joining
happens in the access app (accounts, groups, teams), which depends on no app
above it and so cannot call this one; the daily job (``training.jobs``) catches
anything these miss, such as changes made with ``QuerySet.update()``.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from access.models import User

# Saves that cannot change what a person owes (a sign-in stamps last_login).
_IRRELEVANT = frozenset({"last_login", "password"})


@receiver(post_save, sender=User, dispatch_uid="training.user_saved")
def _user_saved(sender, instance: User, created: bool, update_fields=None, raw=False, **kwargs) -> None:
    if raw or (update_fields and set(update_fields) <= _IRRELEVANT):
        return
    from training.assignments import sync

    sync(instance)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="training.groups_changed")
def _groups_changed(sender, instance, action: str, reverse: bool, pk_set=None, **kwargs) -> None:
    # Joining a group may bring a course, and so may leaving one (a vendor user's account made
    # a member of staff); becoming a vendor user withdraws what was owed.
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from training.assignments import sync

    if reverse:  # group.user_set.add(...): instance is the group
        for person in User.objects.filter(pk__in=pk_set or ()):
            sync(person)
    else:
        instance.__dict__.pop("_role_names", None)
        sync(instance)
