from django import forms
from django.utils.translation import gettext_lazy as _

from tillit.documents.models import Category


class NewDocumentForm(forms.Form):
    file = forms.FileField(label=_("file"))
    title = forms.CharField(label=_("title"), max_length=200, required=False,
                            help_text=_("Leave empty to use the file name."))
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ModelChoiceField(label=_("category"), queryset=Category.objects.filter(active=True),
                                      required=False)
    unit = forms.ChoiceField(label=_("responsible unit"))
    comment = forms.CharField(label=_("comment"), max_length=500, required=False)


class VersionForm(forms.Form):
    file = forms.FileField(label=_("new version"))
    comment = forms.CharField(label=_("what changed"), max_length=500, required=False)
    base_version = forms.IntegerField(widget=forms.HiddenInput)


class CheckInForm(VersionForm):
    file = forms.FileField(label=_("new version (optional)"), required=False)


class EditForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ModelChoiceField(label=_("category"), queryset=Category.objects.filter(active=True),
                                      required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ShareForm(forms.Form):
    expires = forms.DateField(label=_("valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    max_downloads = forms.IntegerField(label=_("download limit"), required=False, min_value=1)
    pin = forms.BooleanField(label=_("always this version (not the latest)"), required=False)
    note = forms.CharField(label=_("for whom"), max_length=200, required=False)


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("link to"), choices=[("person", _("person")), ("case", _("case")),
                                                          ("employer", _("employer"))])
    ref = forms.CharField(label=_("which"), max_length=100,
                          help_text=_("Member number or email of a person, case number, or organisation number."))
