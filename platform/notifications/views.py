"""The agency admin's notification templates, under /quan-tri/thong-bao/ (role admin).

Thin: parse the form, call one service (preview, save, reset), render.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.permissions import agency_role_required, signed_in
from notifications import services
from notifications.forms import TemplateForm
from notifications.models import ACCOUNT_KEYS, ChannelName, NotificationTemplate, TemplateKey
from notifications.rendering import Rendered, default_source
from tenants.http import AgencyRequest

admin_required = agency_role_required(Role.ADMIN)

#: Which channels each message goes by (officers' reminders are e-mail only).
CHANNELS_OF = {
    key: [ChannelName.EMAIL]
    if key == TemplateKey.DUE_SOON or key in ACCOUNT_KEYS
    else list(ChannelName)
    for key in TemplateKey
}


@admin_required
@require_http_methods(["GET"])
def template_list(request: AgencyRequest) -> HttpResponse:
    custom = set(NotificationTemplate.objects.values_list("key", "channel"))
    rows = [
        {
            "key": key,
            "label": key.label,
            "channel": channel,
            "channel_label": channel.label,
            "custom": (key.value, channel.value) in custom,
        }
        for key, channels in CHANNELS_OF.items()
        for channel in channels
    ]
    return render(
        request, "notifications/admin_list.html", {"section": "notifications", "rows": rows}
    )


@admin_required
@require_http_methods(["GET", "POST"])
def template_edit(request: AgencyRequest, key: str, channel: str) -> HttpResponse:
    if key not in TemplateKey.values or channel not in CHANNELS_OF[TemplateKey(key)]:
        raise Http404
    current = NotificationTemplate.objects.filter(key=key, channel=channel).first()
    preview: Rendered | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "reset":
            services.template_reset(key=key, channel=channel, actor=signed_in(request))
            messages.success(request, _("The default text is used again."))
            return redirect("notifications-template", key=key, channel=channel)
        form = TemplateForm(request.POST)
        if form.is_valid():
            subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
            try:
                if action == "preview":
                    preview = services.template_preview(subject=subject, body=body)
                else:
                    services.template_save(
                        key=key,
                        channel=channel,
                        subject=subject,
                        body=body,
                        actor=signed_in(request),
                    )
                    messages.success(request, _("The template is saved."))
                    return redirect("notifications-template", key=key, channel=channel)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                for field, texts in errors.items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
        if not form.is_valid():
            status = 400
    else:
        subject, body = (current.subject, current.body) if current else default_source(key, channel)
        form = TemplateForm(initial={"subject": subject, "body": body})
    return render(
        request,
        "notifications/admin_edit.html",
        {
            "section": "notifications",
            "form": form,
            "key_label": TemplateKey(key).label,
            "channel_label": ChannelName(channel).label,
            "is_email": channel == ChannelName.EMAIL,
            "custom": current is not None,
            "preview": preview,
        },
        status=status,
    )
