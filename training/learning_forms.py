"""The quiz form: one field per question, built from the course's questions.

The form checks the shape of what was ticked — every question answered, every
answer one of that question's own choices, one answer to a single-choice
question. Scoring, and refusing a second submission, are the service's
(``training.services.submit_attempt``).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from training.models import Question, QuestionKind


def field_name(question: Question) -> str:
    return f"q_{question.pk}"


class QuizForm(forms.Form):
    attempt = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            choices = [(str(choice.pk), choice.display_text) for choice in question.choices.all()]
            messages = {
                "required": _("Answer this question."),
                "invalid_choice": _("That answer is not one of this question's choices."),
                "invalid_list": _("That answer is not one of this question's choices."),
            }
            if question.kind == QuestionKind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, error_messages=messages
                )
            else:
                field = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, error_messages=messages)
            field.label = question.display_text
            self.fields[field_name(question)] = field
        self.fields["attempt"].error_messages = {
            "required": _("The quiz form was not recognised. Answer the questions and submit again."),
            "invalid": _("The quiz form was not recognised. Answer the questions and submit again."),
        }

    def clean(self):
        cleaned = super().clean()
        unanswered = [q for q in self.questions if self.has_error(field_name(q), "required")]
        if unanswered:
            raise forms.ValidationError(_("Answer every question before submitting."))
        return cleaned

    def answers(self) -> dict[int, list[int]]:
        """Question id → the choice ids ticked, as ``submit_attempt`` takes them."""
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(field_name(question))
            values = value if isinstance(value, list) else [value] if value else []
            answers[question.pk] = [int(choice) for choice in values]
        return answers

    def question_fields(self) -> list[tuple[Question, forms.BoundField]]:
        """The questions in order, each with its bound field (for the template)."""
        return [(question, self[field_name(question)]) for question in self.questions]
