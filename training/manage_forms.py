"""HR's forms: a course, a quiz question with its answers, an attachment, an assignment."""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from access.models import Department, Role, User
from matters.uploads import FileKind, UploadRejected, inspect_upload
from training import assignments
from training.models import Course, Question, RuleTarget

# Six answer rows on the question form; blank rows are dropped.
ANSWER_ROWS = 6

# Course material: documents, slides, spreadsheets, pictures and plain text, each judged by
# extension *and* content with matters.uploads (every one has an entry in its KINDS).
ATTACHMENT_EXTENSIONS = (".pdf", ".docx", ".pptx", ".xlsx", ".png", ".jpg", ".jpeg", ".txt")

# Where an assignment is chosen here; a role or a classification is a standing
# requirement set on the course form instead.
ASSIGN_TARGETS = [(value, label) for value, label in RuleTarget.choices if value not in {"role", "classification"}]


class CourseForm(forms.ModelForm):
    required_roles = forms.MultipleChoiceField(
        label=_("Required for roles"),
        # Vendor users owe their own firm's obligations, never ours (training.assignments.staff).
        choices=[(value, label) for value, label in Role.choices if value != Role.VENDOR],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Everyone holding one of these roles must take the course, now and when they join."),
    )
    required_departments = forms.MultipleChoiceField(
        label=_("Required for departments"),
        choices=Department.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Everyone in one of these departments must take the course, now and when they join."),
    )
    new_version = forms.BooleanField(
        label=_("This is a new version (the material or the questions changed)"),
        required=False,
        help_text=_("Passes of earlier versions still count until they expire; attempts from now on take this one."),
    )

    class Meta:
        model = Course
        fields = (
            "title",
            "title_zh",
            "material",
            "material_zh",
            "passing_score",
            "recurrence_months",
            "required_roles",
            "required_departments",
            "required_from_classification",
            "onboarding",
        )
        widgets = {
            # richtext.js turns these into an editor; without script they stay plain text areas.
            "material": forms.Textarea(attrs={"rows": 12, "data-richtext": ""}),
            "material_zh": forms.Textarea(attrs={"rows": 12, "data-richtext": ""}),
        }
        help_texts = {
            "material": _("Formatting: headings, bold, italic, lists and links. Anything else is removed on saving."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["new_version"]  # a new course is version 1


class AnswerRow:
    """One answer row of the question form, for the template: its three bound fields."""

    def __init__(self, form: QuestionForm, index: int):
        self.number = index + 1
        self.text = form[f"answer_{index}_text"]
        self.text_zh = form[f"answer_{index}_text_zh"]
        self.is_correct = form[f"answer_{index}_correct"]

    @property
    def errors(self) -> list:
        return [*self.text.errors, *self.text_zh.errors]


class QuestionForm(forms.ModelForm):
    """The question and up to six answers (more when an older question already has more)."""

    class Meta:
        model = Question
        fields = ("text", "text_zh", "kind")
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "text_zh": forms.Textarea(attrs={"rows": 3}),
            "kind": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = list(self.instance.choices.all()) if self.instance.pk else []
        self.row_count = max(ANSWER_ROWS, len(existing))
        for index in range(self.row_count):
            choice = existing[index] if index < len(existing) else None
            self.fields[f"answer_{index}_text"] = forms.CharField(
                label=_("Answer %(number)d") % {"number": index + 1},
                max_length=500,
                required=False,
                initial=choice.text if choice else "",
            )
            self.fields[f"answer_{index}_text_zh"] = forms.CharField(
                label=_("Answer %(number)d in Chinese") % {"number": index + 1},
                max_length=500,
                required=False,
                initial=choice.text_zh if choice else "",
            )
            self.fields[f"answer_{index}_correct"] = forms.BooleanField(
                label=_("Answer %(number)d is correct") % {"number": index + 1},
                required=False,
                initial=choice.is_correct if choice else False,
            )

    def answer_rows(self) -> list[AnswerRow]:
        return [AnswerRow(self, index) for index in range(self.row_count)]

    def clean(self):
        cleaned = super().clean()
        for index in range(self.row_count):
            text = cleaned.get(f"answer_{index}_text", "").strip()
            if not text and cleaned.get(f"answer_{index}_text_zh", "").strip():
                self.add_error(f"answer_{index}_text", _("Give this answer in English too."))
        return cleaned

    def choices(self) -> list[dict]:
        """The answers as ``training.services.save_question`` takes them, blank rows dropped."""
        data = self.cleaned_data
        return [
            {
                "text": data[f"answer_{index}_text"].strip(),
                "text_zh": data[f"answer_{index}_text_zh"].strip(),
                "is_correct": data[f"answer_{index}_correct"],
            }
            for index in range(self.row_count)
            if data[f"answer_{index}_text"].strip()
        ]


def attachment_help(max_bytes: int) -> str:
    return _("Up to %(limit)s. Accepted: %(types)s.") % {
        "limit": filesizeformat(max_bytes),
        "types": ", ".join(ATTACHMENT_EXTENSIONS),
    }


def too_large(max_bytes: int) -> str:
    return _("The file is larger than the %(limit)s limit.") % {"limit": filesizeformat(max_bytes)}


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, max_bytes: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes or settings.TRAINING_ATTACHMENT_MAX_BYTES
        self.fields["file"].widget.attrs["accept"] = ",".join(ATTACHMENT_EXTENSIONS)
        self.fields["file"].help_text = attachment_help(self.max_bytes)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = PurePath(upload.name or "").suffix.lower()
        if extension not in ATTACHMENT_EXTENSIONS:
            if extension:
                message = _("%(ext)s files cannot be attached. Accepted: %(types)s.")
            else:
                message = _("Files without an extension cannot be attached. Accepted: %(types)s.")
            raise forms.ValidationError(message % {"ext": extension, "types": ", ".join(ATTACHMENT_EXTENSIONS)})
        if upload.size > self.max_bytes:
            raise forms.ValidationError(too_large(self.max_bytes))
        try:
            kind: FileKind = inspect_upload(upload, self.max_bytes)
        except UploadRejected as exc:
            raise forms.ValidationError(str(exc)) from None
        # The type we recognised, never the one the browser claimed: it is what the file is served as.
        upload.content_type = kind.content_type
        return upload


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


def teams() -> QuerySet[Group]:
    """Groups that are teams, not roles (a role is a standing requirement on the course form)."""
    return Group.objects.exclude(name__in=Role.values).order_by("name")


class AssignForm(forms.Form):
    target = forms.ChoiceField(label=_("Assign to"), choices=ASSIGN_TARGETS, widget=forms.RadioSelect)
    person = PersonChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    group = forms.ModelChoiceField(label=_("Group or team"), queryset=Group.objects.none(), required=False)
    department = forms.ChoiceField(
        label=_("Department"), choices=[("", "---------"), *Department.choices], required=False
    )
    due_on = forms.DateField(
        label=_("Due on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Required, except for all new staff, who each get the days allowed below from the day they join."),
    )
    due_in_days = forms.IntegerField(
        label=_("Days allowed to people who join later"),
        min_value=1,
        max_value=365,
        initial=14,
        help_text=_("Someone who joins later is due this many days after joining, or on the due date if later."),
    )

    # Which field names whom, by target.
    CHOSEN_BY = {RuleTarget.PERSON: "person", RuleTarget.GROUP: "group", RuleTarget.DEPARTMENT: "department"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = assignments.staff().order_by("last_name", "first_name", "username")
        self.fields["group"].queryset = teams()

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("target")
        if target is None:
            return cleaned
        field = self.CHOSEN_BY.get(target)
        if field and not cleaned.get(field) and field not in self.errors:
            self.add_error(field, _("Choose whom to assign the course to."))
        if target != RuleTarget.NEW_STAFF and cleaned.get("due_on") is None and "due_on" not in self.errors:
            self.add_error("due_on", _("Give a due date: an assignment without a due date could never be overdue."))
        return cleaned

    def service_kwargs(self) -> dict:
        """The arguments of ``training.services.assign_course`` this form collected (only the chosen target's)."""
        data = self.cleaned_data
        target = data["target"]
        chosen = self.CHOSEN_BY.get(target)
        return {
            "target": target,
            "due_on": data["due_on"],
            "due_in_days": data["due_in_days"],
            "person": data["person"] if chosen == "person" else None,
            "group": data["group"] if chosen == "group" else None,
            "department": data["department"] if chosen == "department" else "",
        }
