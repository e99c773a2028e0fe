"""API keys (issue, revoke, authenticate) and receiving dossiers delivered by other systems.

Everything runs in the active agency's schema; keys never leave it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiKey, Scope
from audit.services import audit_record
from dossiers.models import Channel
from lifecycle.submit import Applicant, SubmitResult, dossier_submit
from procedures.models import AgencyProcedure
from tenants.models import Agency

if TYPE_CHECKING:
    from accounts.models import User

KEY_PREFIX = "mc"
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)  # at most one write per key per minute


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # the whole key, shown once and never stored


class ApiKeyRefused(Exception):
    """Why a presented key does not authenticate: ``invalid`` or ``revoked``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(
    *,
    name: str,
    scopes: Iterable[str],
    actor: User | None = None,
    rate_limit_per_minute: int = 600,
) -> IssuedKey:
    """Create a key for the active agency; the returned secret is the only copy."""
    name = name.strip()
    wanted = sorted(set(scopes))
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the key a name, e.g. the system that will use it.")]
    elif len(name) > 100:
        errors["name"] = [_("The name may have at most 100 characters.")]
    unknown = [s for s in wanted if s not in Scope.values]
    if not wanted:
        errors["scopes"] = [_("Choose at least one permission.")]
    elif unknown:
        errors["scopes"] = [
            _("Unknown permission(s): %(scopes)s.") % {"scopes": ", ".join(unknown)}
        ]
    if rate_limit_per_minute < 0:
        errors["rate_limit_per_minute"] = [_("The limit cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            secret_hash=_digest(secret),
            scopes=wanted,
            rate_limit_per_minute=rate_limit_per_minute,
            created_by_id=getattr(actor, "pk", None),
        )
        audit_record(
            action="api_key.issued",
            actor=actor,
            target=f"api-key:{prefix}",
            name=name,
            scopes=wanted,
        )
    return IssuedKey(api_key, secret)


def api_key_revoke(*, api_key: ApiKey, actor: User | None = None) -> ApiKey:
    """Revoke the key at once; revoking a revoked key changes nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.revoked_by_id = getattr(actor, "pk", None)
            key.save(update_fields=["revoked_at", "revoked_by_id"])
            audit_record(action="api_key.revoked", actor=actor, target=f"api-key:{key.prefix}")
    return key


def api_key_authenticate(*, raw: str) -> ApiKey:
    """The active agency's key that ``raw`` is, or ApiKeyRefused. Records the last use."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or len(parts[1]) > 16:
        raise ApiKeyRefused("invalid")
    key = (
        ApiKey.objects.only(
            "pk",
            "prefix",
            "secret_hash",
            "scopes",
            "rate_limit_per_minute",
            "revoked_at",
            "last_used_at",
        )
        .filter(prefix=parts[1])
        .first()
    )
    expected = key.secret_hash if key is not None else "0" * 64
    if not hmac.compare_digest(_digest(raw.strip()), expected) or key is None:
        raise ApiKeyRefused("invalid")
    if key.revoked_at is not None:
        raise ApiKeyRefused("revoked")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


# -- Dossiers delivered by other systems ---------------------------------------------------


def inbound_fingerprint(
    *, data: Mapping[str, Any], files: Mapping[int, Sequence[UploadedFile]]
) -> str:
    """A digest of a delivery: its JSON data and the content of each file, by component."""
    digests = []
    for position in sorted(files):
        for upload in files[position]:
            digest = hashlib.sha256()
            upload.seek(0)
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            digests.append([position, digest.hexdigest()])
    canonical = json.dumps(
        {"data": data, "files": digests}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def dossier_receive_inbound(
    *,
    agency: Agency,
    procedure: AgencyProcedure,
    external_id: str,
    data: Mapping[str, Any],
    applicant: Applicant,
    form_data: Mapping[str, Any],
    files: Mapping[int, Sequence[UploadedFile]],
    received_at: dt.datetime | None = None,
) -> SubmitResult:
    """Receive a dossier submitted on the national portal, once per external id.

    The same delivery again returns the dossier already received (``created=False``);
    different content under a known id raises ``lifecycle.submit.ExternalIdConflict``.
    """
    return dossier_submit(
        agency=agency,
        procedure=procedure,
        applicant=applicant,
        form_data=form_data,
        files=files,
        channel=Channel.NATIONAL_PORTAL,
        external_id=external_id,
        external_fingerprint=inbound_fingerprint(data=data, files=files),
        received_at=received_at,
    )
