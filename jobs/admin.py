from django.contrib import admin

from jobs.models import JobRun
from lawfirm.admin_site import ReadOnlyAdminMixin, StrictLookupsMixin


@admin.register(JobRun)
class JobRunAdmin(StrictLookupsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("job", "started_at", "finished_at", "outcome", "counts")
    list_filter = ("job", "outcome")
    date_hierarchy = "started_at"
