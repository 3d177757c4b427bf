from django import forms
from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case, CaseType


class TypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.shown_name


class NewCaseForm(forms.Form):
    case_type = TypeChoiceField(label=_("case type"), queryset=CaseType.objects.filter(active=True))
    title = forms.CharField(label=_("title"), max_length=200)
    body = forms.CharField(label=_("what it is about"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    priority = forms.TypedChoiceField(label=_("priority"), choices=Case.Priority.choices, coerce=int,
                                      initial=Case.Priority.NORMAL)
    subject = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, countries=None, **kwargs):
        super().__init__(*args, **kwargs)
        if countries is not None:  # only the types offered where the user's units are
            offered = [t.pk for t in CaseType.objects.filter(active=True)
                       if not t.countries or set(t.countries) & set(countries)]
            self.fields["case_type"].queryset = CaseType.objects.filter(pk__in=offered)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("the person can see this"), required=False)


class TransferForm(forms.Form):
    unit = forms.ChoiceField(label=_("to unit"))
    reason = forms.CharField(label=_("why"), max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CaseTypeForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=120)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    default_unit = forms.ModelChoiceField(label=_("default responsible unit"), queryset=None)
    deadline_days = forms.IntegerField(label=_("deadline for the whole case (business days)"), required=False,
                                       min_value=1)
    subject_can_see = forms.BooleanField(label=_("the subject can follow it in the portal"), required=False,
                                         initial=True)
    is_intake = forms.BooleanField(label=_("intake for incoming email"), required=False)
    states = forms.CharField(label=_("states"), widget=forms.Textarea(attrs={"rows": 6}),
                             help_text=_("One per line: code | name | category (new, in_progress, waiting, closed) | "
                                         "deadline days | remind after days"))
    transitions = forms.CharField(label=_("transitions"), widget=forms.Textarea(attrs={"rows": 6}),
                                  help_text=_("One per line: code | label | from state | to state | roles"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        from tillit.registry.models import OrgUnit

        self.fields["default_unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units]).order_by("path")


class ProcessForm(forms.Form):
    states = CaseTypeForm.base_fields["states"]
    transitions = CaseTypeForm.base_fields["transitions"]
