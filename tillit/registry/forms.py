"""UI forms. They only parse; the rules are in validation.py and services.py."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tillit.core.forms import add_domain_errors
from tillit.registry.models import COUNTRIES, MembershipStatus, MembershipType, RoleType


class PersonForm(forms.Form):
    first_name = forms.CharField(label=_("first name"), max_length=100)
    last_name = forms.CharField(label=_("last name"), max_length=100)
    birth_date = forms.CharField(label=_("birth date"), required=False,
                                 widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD"}))
    national_id = forms.CharField(label=_("national identity number"), required=False)
    email = forms.CharField(label=_("email"), required=False)
    phone = forms.CharField(label=_("phone"), required=False)
    address_line = forms.CharField(label=_("address"), required=False)
    postal_code = forms.CharField(label=_("postal code"), required=False)
    city = forms.CharField(label=_("city"), required=False)
    country = forms.ChoiceField(label=_("country"), choices=COUNTRIES)
    preferred_language = forms.ChoiceField(label=_("preferred language"), choices=settings.LANGUAGES)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    allow_duplicate = forms.BooleanField(label=_("Register anyway, this is another person"), required=False)

    def add_domain_errors(self, exc):
        add_domain_errors(self, exc)


class MembershipForm(forms.Form):
    membership_type = forms.ModelChoiceField(label=_("membership type"), queryset=MembershipType.objects.all())
    branch = forms.ChoiceField(label=_("branch"))
    joined_on = forms.DateField(label=_("joined on"), widget=forms.DateInput(attrs={"type": "date"}))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=MembershipStatus.choices)
    on = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("reason"), required=False, max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput)


class EmploymentForm(forms.Form):
    workplace = forms.ChoiceField(label=_("workplace"))
    starts_on = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    position = forms.CharField(label=_("position"), required=False, max_length=100)
    percentage = forms.DecimalField(label=_("percentage"), min_value=0, max_value=100, initial=100)
    payroll_deduction = forms.BooleanField(label=_("payroll deduction"), required=False)


class RoleForm(forms.Form):
    role_type = forms.ModelChoiceField(label=_("role type"), queryset=RoleType.objects.all())
    node = forms.ChoiceField(label=_("where"))
    starts_on = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("file (CSV or XLSX)"))
    mapping = forms.CharField(label=_("column mapping"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("One line per column: column in the file = Tillit field. Leave empty "
                                          "when the file uses Tillit's field names."))
    skip_invalid = forms.BooleanField(label=_("Import the valid rows and give me the invalid ones back"),
                                      required=False)
