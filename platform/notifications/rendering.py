"""Rendering notification texts: defaults from templates/notifications/, overridable per agency.

Agency templates run in a restricted engine (notifications.safe_tags; no loaders) over a
context of plain strings built here, so a template cannot reach models, settings or files.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import get_template
from django.utils.translation import gettext as _

from notifications.models import ChannelName, NotificationTemplate, TemplateKey

logger = logging.getLogger(__name__)

MAX_SUBJECT = 300


class SafeEngine(Engine):
    default_builtins = ["notifications.safe_tags"]


ENGINE = SafeEngine(dirs=[], app_dirs=False, autoescape=False, libraries={}, loaders=[])

#: What every template may use (values are strings; lists for ``items``/``dossiers``).
CONTEXT_NAMES = (
    "agency_name",
    "applicant_name",
    "dossier_code",
    "procedure_name",
    "due_date",
    "new_due_date",
    "reason",
    "items",
    "officer_name",
    "dossiers",
    "count",
    "link",
    "email",
    "person_name",
    "roles",
)

SAMPLE_CONTEXT: dict[str, Any] = {
    "agency_name": "UBND Xã An Bình",
    "applicant_name": "Nguyễn Văn A",
    "dossier_code": "AB-20260105-0001",
    "procedure_name": "Đăng ký hộ kinh doanh",
    "due_date": "08/01/2026",
    "new_due_date": "15/01/2026",
    "reason": "Cần xác minh thêm thông tin",
    "items": ["Bản sao giấy tờ chứng thực cá nhân"],
    "officer_name": "Trần Thị B",
    "dossiers": ["AB-20260105-0001 (08/01/2026)", "AB-20260105-0002 (08/01/2026)"],
    "count": "2",
    "link": "https://xa-an-binh.motcua.vn/accounts/confirm-email/MQ:1abcde/",
    "email": "nguyenvana@example.vn",
    "person_name": "Nguyễn Văn A",
    "roles": "Cán bộ xử lý",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@functools.lru_cache(maxsize=64)
def default_source(key: str, channel: str) -> tuple[str, str]:
    """The default (subject, body) template sources of a message, from the files."""

    def source(name: str) -> str:
        template: Any = get_template(f"notifications/{key}.{name}.txt")
        return str(template.template.source)

    subject = source("subject") if channel == ChannelName.EMAIL else ""
    return subject, source(channel)


def compile_template(source: str, *, field: str) -> Template:
    """Parse an agency's template; bad syntax is a ValidationError naming the field."""
    try:
        return ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationError(
            {field: _("The template has an error: %(error)s") % {"error": exc}}
        ) from None


def render_source(subject: str, body: str, context: dict[str, Any]) -> Rendered:
    """Render agency-written sources (raises ValidationError on any error)."""
    compiled_subject = compile_template(subject, field="subject")
    compiled_body = compile_template(body, field="body")
    try:
        rendered_subject = compiled_subject.render(Context(context, autoescape=False))
        rendered_body = compiled_body.render(Context(context, autoescape=False))
    except Exception as exc:
        raise ValidationError(
            {"body": _("The template cannot be rendered: %(error)s") % {"error": exc}}
        ) from None
    return Rendered(" ".join(rendered_subject.split())[:MAX_SUBJECT], rendered_body.strip())


def render_default(key: str, channel: str, context: dict[str, Any]) -> Rendered:
    # The defaults run in the same restricted engine (no HTML escaping in plain text).
    return render_source(*default_source(key, channel), context)


def render_message(key: str, channel: str, context: dict[str, Any]) -> Rendered:
    """The active agency's wording if it has one, else the default. An agency template that
    fails at render time falls back to the default: a message is never lost to a typo."""
    if key not in TemplateKey.values or channel not in ChannelName.values:
        raise ValueError(f"unknown notification {key}/{channel}")
    override = NotificationTemplate.objects.filter(key=key, channel=channel).first()
    if override is not None:
        try:
            return render_source(override.subject, override.body, context)
        except ValidationError:
            logger.warning("agency template %s/%s failed; using the default", key, channel)
    return render_default(key, channel, context)
