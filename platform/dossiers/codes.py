"""Dossier codes (<agency code>-<yymmdd>-<sequence> by default) and lookup secrets.

The pattern is configurable per agency. Sequence numbers come from one counter
row per *scope* (the code with the sequence left out, e.g. one agency-day),
incremented by a single upsert inside the submission's transaction: concurrent
submissions queue on the row, a rolled-back one gives its number back, so
codes have neither duplicates nor gaps.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency
from tenants.services import agency_event_record

if TYPE_CHECKING:
    from accounts.models import User

TOKEN_RE = re.compile(r"\{(code|yyyy|yy|mm|dd|yymmdd|seq(?::0?([1-9]))?)\}")
ALLOWED_LITERAL_RE = re.compile(r"^[A-Za-z0-9\-_./]*$")
# No 0/O or 1/I: secrets are read aloud and retyped.
SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet, not a password
SECRET_LENGTH = 8
MAX_CODE_LENGTH = 40


def validate_pattern(pattern: str) -> None:
    seq_tokens = [m for m in TOKEN_RE.finditer(pattern) if m.group(1).startswith("seq")]
    if len(seq_tokens) != 1:
        raise ValidationError(
            _("The dossier code pattern must contain {seq} (or {seq:N}) exactly once."),
            code="seq",
        )
    literal = TOKEN_RE.sub("", pattern)
    if not ALLOWED_LITERAL_RE.match(literal):
        raise ValidationError(
            _("The dossier code pattern may only add letters, digits and - _ . /"),
            code="chars",
        )
    sample = render(pattern, code="ABCDEFGHIJ", on=dt.date(2099, 12, 31), seq=999999)
    if len(sample) > MAX_CODE_LENGTH:
        raise ValidationError(_("Dossier codes from this pattern would be too long."), code="long")


def render(pattern: str, *, code: str, on: dt.date, seq: int | None) -> str:
    def token(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("seq"):
            if seq is None:
                return "{seq}"
            width = int(match.group(2) or 0)
            return f"{seq:0{width}d}" if width else str(seq)
        return {
            "code": code,
            "yyyy": f"{on:%Y}",
            "yy": f"{on:%y}",
            "mm": f"{on:%m}",
            "dd": f"{on:%d}",
            "yymmdd": f"{on:%y%m%d}",
        }[name]

    return TOKEN_RE.sub(token, pattern)


def agency_code_prefix(agency: Agency) -> str:
    """What ``{code}`` stands for: the agency's code, or its slug when it has none."""
    return agency.code or agency.slug.upper()


def next_code(*, pattern: str, agency_code: str, on: dt.date) -> str:
    """Issue the next code in the pattern's scope. Must run inside the submission's transaction."""
    from dossiers.models import DossierCounter

    scope = render(pattern, code=agency_code, on=on, seq=None)
    table = DossierCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, last) VALUES (%s, 1) "  # noqa: S608 - our table name
            f"ON CONFLICT (scope) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [scope],
        )
        (seq,) = cursor.fetchone()
    return render(pattern, code=agency_code, on=on, seq=int(seq)).upper()


def provisional_code() -> str:
    """A unique placeholder a dossier row holds until ``next_code`` (later in the same
    transaction) gives it its real code; never visible outside the transaction."""
    return f"~{uuid.uuid4().hex}"


def preview_next_code(*, pattern: str, agency_code: str, on: dt.date) -> str:
    """The code the next dossier would get under ``pattern`` on ``on``: read-only.

    Reads the scope's counter without touching it, so previews never consume a
    number (a concurrent submission may still take this one first).
    """
    from dossiers.models import DossierCounter

    scope = render(pattern, code=agency_code, on=on, seq=None)
    last = DossierCounter.objects.filter(scope=scope).values_list("last", flat=True).first()
    return render(pattern, code=agency_code, on=on, seq=int(last or 0) + 1).upper()


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def normalise_secret(value: str) -> str:
    """Accept what people type: lowercase, spaces and dashes."""
    return value.strip().upper().replace(" ", "").replace("-", "")


# -- The agency's pattern ------------------------------------------------------------------

DOSSIER_CODE_PATTERN_MAX_LENGTH = 60  # Agency.dossier_code_pattern's column


def agency_set_dossier_code_pattern(
    *, agency: Agency, pattern: str, actor: User | None = None
) -> Agency:
    """Change how the agency's dossier codes are built (from the next dossier on).

    Validated by the same rules the code generator relies on; recorded in the
    public agency history and in the agency's own audit trail, in one transaction.
    """
    pattern = (pattern or "").strip()
    if not pattern:
        raise ValidationError(
            {"dossier_code_pattern": [_("Enter a dossier code pattern.")]}, code="required"
        )
    if len(pattern) > DOSSIER_CODE_PATTERN_MAX_LENGTH:
        raise ValidationError(
            {"dossier_code_pattern": [_("The dossier code pattern is too long.")]}, code="long"
        )
    try:
        validate_pattern(pattern)
    except ValidationError as exc:
        raise ValidationError({"dossier_code_pattern": exc.messages}) from exc
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        old = agency.dossier_code_pattern
        if old == pattern:
            return agency
        agency.dossier_code_pattern = pattern
        agency.save(update_fields=["dossier_code_pattern", "updated_at"])
        actor_email = str(getattr(actor, "email", "") or "")
        agency_event_record(
            agency, "dossier_code_pattern_changed", actor_email=actor_email, old=old, new=pattern
        )
        with agency_context(agency):
            audit_record(
                action="agency.dossier_code_pattern_changed",
                actor=actor,
                target=agency.slug,
                old=old,
                new=pattern,
            )
    return agency
