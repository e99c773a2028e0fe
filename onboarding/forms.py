"""Forms of onboarding: they parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import BillingAccount, Plan
from onboarding.models import ApplicationState
from tenants.models import Agency, AgencyKind, AgencyStatus
from tenants.units import provinces


class ApplicationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of agency"), choices=AgencyKind.choices)
    admin_unit_code = forms.CharField(
        label=_("Official admin-unit code"),
        max_length=10,
        help_text=_("The commune or ward code for a commune; the province code for a department."),
    )
    name = forms.CharField(
        label=_("Agency name"),
        max_length=255,
        required=False,
        help_text=_("A commune's official name is filled in from its code when left empty."),
    )
    parent = forms.ModelChoiceField(
        label=_("Parent agency"),
        queryset=Agency.objects.filter(status=AgencyStatus.ACTIVE),
        required=False,
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=200)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30)
    admin_email = forms.EmailField(label=_("Administrator e-mail"))
    requested_plan = forms.ModelChoiceField(
        label=_("Requested plan"), queryset=Plan.objects.filter(active=True), required=False
    )


class ApproveForm(forms.Form):
    billing_account = forms.ModelChoiceField(
        label=_("Billing account"),
        queryset=BillingAccount.objects.order_by("name"),
        required=False,
        help_text=_("Who pays; without one the subscription is skipped."),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ApplicationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    province = forms.ChoiceField(label=_("Province"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *AgencyKind.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *ApplicationState.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["province"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All")), *sorted(provinces().items())]


class ProvinceOnboardForm(forms.Form):
    province = forms.ChoiceField(label=_("Province"))
    departments = forms.FileField(
        label=_("Department list (JSON)"),
        required=False,
        help_text=_("Format of departments.sample.json; the sample list is used when empty."),
    )
    billing_account = forms.ModelChoiceField(
        label=_("Billing account"), queryset=BillingAccount.objects.order_by("name"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["province"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = sorted(provinces().items())
