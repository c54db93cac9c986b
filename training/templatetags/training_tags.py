"""``{% my_training_panel %}``: what the signed-in person still owes, for the top of their home page."""

from __future__ import annotations

from django import template
from django.utils import timezone

from training.models import Assignment

register = template.Library()


@register.inclusion_tag("training/_my_items.html", takes_context=True)
def my_training_panel(context) -> dict:
    """The person's open current assignments, earliest due first (one query; none for a visitor)."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return {"items": []}
    items = list(
        Assignment.objects.current()
        .open()
        .filter(user_id=user.pk)
        .select_related("course", "version__document")
        .order_by("due_on", "pk")
    )
    today = timezone.localdate()
    for item in items:
        item.overdue = item.due_on < today
    return {"items": items, "today": today}
