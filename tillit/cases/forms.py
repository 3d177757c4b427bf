from django import forms
from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case, CaseType


class NewCaseForm(forms.Form):
    case_type = forms.ModelChoiceField(label=_("case type"), queryset=CaseType.objects.filter(active=True))
    title = forms.CharField(label=_("title"), max_length=200)
    body = forms.CharField(label=_("what it is about"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    priority = forms.TypedChoiceField(label=_("priority"), choices=Case.Priority.choices, coerce=int,
                                      initial=Case.Priority.NORMAL)
    subject = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("the person can see this"), required=False)


class TransferForm(forms.Form):
    unit = forms.ChoiceField(label=_("to unit"))
    reason = forms.CharField(label=_("why"), max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)
