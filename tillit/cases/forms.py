from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case, CaseType, State
from tillit.core.scopes import ROLES


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

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        from tillit.registry.models import OrgUnit

        self.fields["default_unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units]).order_by("path")


# --- the process editor: one row per state, one per transition --------------------------------------------------

def _other_languages():
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class _RowForm(forms.Form):
    """A row of the process table; the text column has a column per further language beside it."""

    text_field = "name"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, name in _other_languages():
            self.fields[f"{self.text_field}_{code}"] = forms.CharField(
                label=f"{self.fields[self.text_field].label} ({name})", max_length=80, required=False)

        for name, field in self.fields.items():  # a table's cell: its column header names it
            if name != "roles":
                field.widget.attrs["aria-label"] = str(field.label)
        for name in ("from_state", "to_state"):
            if name in self.fields:
                self.fields[name].widget.attrs["list"] = "state-codes"

    def translations(self) -> dict:
        return {code: self.cleaned_data[f"{self.text_field}_{code}"].strip() for code, _n in _other_languages()
                if self.cleaned_data.get(f"{self.text_field}_{code}", "").strip()}

    @classmethod
    def initial_texts(cls, obj) -> dict:
        return {f"{cls.text_field}_{code}": obj.translations.get(code, "") for code, _n in _other_languages()}


class StateRow(_RowForm):
    code = forms.SlugField(label=_("code"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=80)
    category = forms.ChoiceField(label=_("category"), choices=[("", "–"), *State.Category.choices])  # "–": an empty row
    deadline_days = forms.IntegerField(label=_("deadline (business days)"), required=False, min_value=1,
                                       max_value=3650)
    remind_after_days = forms.IntegerField(label=_("remind after (days)"), required=False, min_value=1,
                                           max_value=3650)


class TransitionRow(_RowForm):
    text_field = "label"
    code = forms.SlugField(label=_("code"), max_length=40)
    label = forms.CharField(label=_("label"), max_length=80)
    from_state = forms.SlugField(label=_("from state"), max_length=40)
    to_state = forms.SlugField(label=_("to state"), max_length=40)
    roles = forms.MultipleChoiceField(label=_("who may take it (none ticked: anyone who works on the case)"),
                                      required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(code, label) for code, (label, _perms) in ROLES.items()]


StateRows = forms.formset_factory(StateRow, extra=2, can_delete=True, max_num=60, validate_max=True)
TransitionRows = forms.formset_factory(TransitionRow, extra=3, can_delete=True, max_num=200, validate_max=True)


def process_rows(process) -> tuple[list[dict], list[dict]]:
    """The process as the tables' initial rows."""
    states = [{"code": s.code, "name": s.name, "category": s.category, "deadline_days": s.deadline_days,
               "remind_after_days": s.remind_after_days} | StateRow.initial_texts(s) for s in process.states.all()]
    transitions = [{"code": t.code, "label": t.label, "from_state": t.from_state.code, "to_state": t.to_state.code,
                    "roles": t.roles} | TransitionRow.initial_texts(t)
                   for t in process.transitions.select_related("from_state", "to_state")]
    return states, transitions


def _kept(formset):
    deleted = set(map(id, formset.deleted_forms))
    return [f for f in formset.forms if f.cleaned_data and id(f) not in deleted]


def process_from_rows(states: StateRows, transitions: TransitionRows) -> tuple[list[dict], list[dict]]:
    """What `cases.services.define_process` takes, from the two valid tables (rows left empty or ticked for
    removal left out, in the tables' order)."""
    return ([{"code": f.cleaned_data["code"], "name": f.cleaned_data["name"].strip(),
              "category": f.cleaned_data["category"], "deadline_days": f.cleaned_data["deadline_days"],
              "remind_after_days": f.cleaned_data["remind_after_days"], "translations": f.translations()}
             for f in _kept(states)],
            [{"code": f.cleaned_data["code"], "label": f.cleaned_data["label"].strip(),
              "from": f.cleaned_data["from_state"], "to": f.cleaned_data["to_state"],
              "roles": f.cleaned_data["roles"], "translations": f.translations()} for f in _kept(transitions)])
