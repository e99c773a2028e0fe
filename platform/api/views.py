"""The agency administrator's page for API keys (``/quan-tri/khoa-api/``). Thin views."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import agency_role_required, signed_in
from api.models import ApiKey, Scope
from api.services import api_key_issue, api_key_revoke
from tenants.http import AgencyRequest


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Permissions"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Requests per minute"), min_value=0, initial=600, help_text=_("0 means no limit.")
    )


def _page(
    request: AgencyRequest, form: ApiKeyForm, secret: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "api/keys.html",
        {"form": form, "keys": ApiKey.objects.all(), "secret": secret},
        status=status,
    )


@agency_role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def api_keys(request: AgencyRequest) -> HttpResponse:
    """List the keys; issue one (its secret is shown on this response only)."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                issued = api_key_issue(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
                    actor=signed_in(request),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                response = _page(request, ApiKeyForm(), secret=issued.secret)
                response["Cache-Control"] = "no-store"
                return response
        return _page(request, form, status=400)
    return _page(request, form)


@agency_role_required(Role.ADMIN)
@require_POST
def api_key_revoke_view(request: AgencyRequest, key_id: int) -> HttpResponse:
    key = ApiKey.objects.filter(pk=key_id).first()
    if key is None:
        raise Http404
    api_key_revoke(api_key=key, actor=signed_in(request))
    messages.success(request, _("The key “%(name)s” is revoked.") % {"name": key.name})
    return redirect("api-keys")
