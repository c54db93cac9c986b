"""Matters in the admin site: non-sensitive metadata only.

The admin exists to manage people and grants, and a grant needs a matter to
point at; so matters appear here by number, classification, status and dates,
read-only. Clients, parties and documents are not registered at all: the
admin site never shows client information (DESIGN.md, principle 1).
"""

from django.contrib import admin

from lawfirm.admin_site import ReadOnlyAdminMixin, StrictLookupsMixin
from matters.models import Matter

METADATA_FIELDS = ("number", "classification", "status", "practice_area", "opened_on", "closed_on")


@admin.register(Matter)
class MatterMetadataAdmin(StrictLookupsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = METADATA_FIELDS
    list_filter = ("classification", "status", "practice_area")
    search_fields = ("number",)  # also drives the grant form's matter autocomplete
    fields = METADATA_FIELDS
    readonly_fields = METADATA_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).only(*METADATA_FIELDS)
