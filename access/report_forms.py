"""Forms of the security officer's reports: a matter and a moment; a client and a period.

Both are read with GET, so a report has an address that can be bookmarked and that its
CSV and printable links reuse. Matters and clients are looked up by number and code,
reading only their ids and labels, never their encrypted columns.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.reports import MATTER_COLUMNS
from matters.models import Client, Matter

# The trail begins with the firm's use of Custos; earlier times have nothing to report
# (and dates near year 1 overflow once moved to UTC).
EARLIEST = date(2000, 1, 1)
# A person asking "what is happening right now" with a clock a little ahead is not refused.
CLOCK_SKEW = timedelta(minutes=1)
MAX_YEARS = 5


class MatterAccessForm(forms.Form):
    number = forms.CharField(
        label=_("Matter number"),
        max_length=32,
        error_messages={"required": _("Enter the matter number.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    at = forms.DateTimeField(
        label=_("At"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        error_messages={"invalid": _("Enter a date and time, such as 2026-03-02 09:30.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read per form, not at import: the moment the page is opened, in the firm's time zone.
        self.fields["at"].initial = lambda: timezone.localtime().replace(microsecond=0)
        self.fields["at"].help_text = _("In the firm's time zone (%(zone)s). Empty: now.") % {
            "zone": timezone.get_current_timezone_name()
        }

    def clean_number(self) -> Matter:
        number = self.cleaned_data["number"].strip()
        matter = Matter.objects.select_related("client").only(*MATTER_COLUMNS).filter(number=number).first()
        if matter is None:
            raise forms.ValidationError(_("No matter has this number."), code="unknown")
        return matter

    def clean_at(self) -> datetime:
        moment = self.cleaned_data.get("at")
        now = timezone.now()
        if moment is None:
            return now
        if moment.date() < EARLIEST:
            raise forms.ValidationError(
                _("Choose a time from %(date)s on."), params={"date": EARLIEST.isoformat()}, code="too_early"
            )
        if moment > now + CLOCK_SKEW:
            raise forms.ValidationError(
                _("Choose a time that has passed: the report reads what happened."), code="future"
            )
        return min(moment, now)


def _years_later(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


class TransparencyForm(forms.Form):
    client = forms.CharField(
        label=_("Client code"),
        max_length=20,
        error_messages={"required": _("Enter the client code.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    date_from = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the first day."), "invalid": _("Enter a date, such as 2026-03-02.")},
    )
    date_to = forms.DateField(
        label=_("To"),
        help_text=_("Including that day."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the last day."), "invalid": _("Enter a date, such as 2026-03-02.")},
    )

    def clean_client(self) -> Client:
        code = self.cleaned_data["client"].strip()
        # The id and code only: the client's name is decrypted for the printable report alone.
        client = Client.objects.only("id", "code").filter(code=code).first()
        if client is None:
            raise forms.ValidationError(_("No client has this code."), code="unknown")
        return client

    def clean_date_from(self) -> date:
        start = self.cleaned_data["date_from"]
        if start < EARLIEST:
            raise forms.ValidationError(
                _("Choose a day from %(date)s on."), params={"date": EARLIEST.isoformat()}, code="too_early"
            )
        return start

    def clean_date_to(self) -> date:
        end = self.cleaned_data["date_to"]
        if end > timezone.localdate():
            raise forms.ValidationError(_("“To” is in the future: choose today or an earlier day."), code="future")
        return end

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start is None or end is None:
            return data
        if end < start:
            self.add_error("date_to", forms.ValidationError(_("“To” is before “From”."), code="order"))
        elif end >= _years_later(start, MAX_YEARS):
            self.add_error(
                "date_to",
                forms.ValidationError(
                    _("A report covers at most %(years)d years: choose a shorter period."),
                    params={"years": MAX_YEARS},
                    code="too_long",
                ),
            )
        return data
