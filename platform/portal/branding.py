"""Reading and changing an agency's branding, with untrusted input made safe.

Uploaded logos must be real raster images (Pillow parses them) of bounded size
and dimensions, re-encoded as PNG so nothing but pixels is kept. Rich text is
sanitised with nh3 (Ammonia): a short allow-list of tags, safe links only.
"""

from __future__ import annotations

import io
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING

import nh3
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from audit.services import audit_record
from core.failpoints import failpoint
from portal.models import Branding
from tenants.context import on_commit_in_schema
from tenants.db import connection
from tenants.pagecache import portal_pages_changed

if TYPE_CHECKING:
    from accounts.models import User

CACHE_KEY = "portal:branding:v1"
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 2000
LOGO_STORED_MAX_SIDE = 512
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitize_html(value: str) -> str:
    return nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


class _LocalBrandings:
    """Each process's own copy of the agencies' brandings, so that an agency's page (every
    portal page renders the branding) costs no cache round trip for it.

    Like the host routes (tenants.routing), a change bumps a shared *generation*; each process
    compares its own with it at most once a second and forgets every copy when it moved. So a
    change reaches every process within a second, and the process that made it at once. A copy
    lives as long as the shared cache's entry (``ENTRY_SECONDS``): a branding row written by
    other means (onboarding creates it) is seen as late as it was before.
    """

    ENTRY_SECONDS = 300
    GENERATION_KEY = "portal:branding:generation"
    CHECK_SECONDS = 1.0
    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Branding, float]] = {}
        self._generation: object = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def _sync(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.CHECK_SECONDS:
            return
        self._checked_at = now
        current = caches["platform"].get(self.GENERATION_KEY)
        if current != self._generation:
            with self._lock:
                self._entries.clear()
                self._generation = current

    def get(self, schema: str) -> Branding | None:
        self._sync()
        entry = self._entries.get(schema)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def keep(self, schema: str, branding: Branding) -> None:
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[schema] = (branding, time.monotonic() + self.ENTRY_SECONDS)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def changed(self, schema: str) -> None:
        """After a change is committed: forget it here at once, elsewhere within a second."""
        with self._lock:
            self._entries.pop(schema, None)
        platform = caches["platform"]
        try:
            platform.incr(self.GENERATION_KEY)
        except ValueError:
            platform.set(self.GENERATION_KEY, 1, None)
        self._checked_at = 0.0


local_brandings = _LocalBrandings()


def current_branding() -> Branding:
    """The active agency's branding: this process's copy (``_LocalBrandings``), else the
    shared cache (per agency: its key is tenant-aware), else the database."""
    schema = connection.schema_name
    local = local_brandings.get(schema)
    if local is not None:
        return local
    cached = cache.get(CACHE_KEY)
    if isinstance(cached, Branding):
        local_brandings.keep(schema, cached)
        return cached
    branding = Branding.objects.filter(pk=1).first() or Branding(pk=1)
    cache.set(CACHE_KEY, branding, _LocalBrandings.ENTRY_SECONDS)
    local_brandings.keep(schema, branding)
    return branding


def _branding_changed() -> None:
    cache.delete(CACHE_KEY)
    local_brandings.changed(connection.schema_name)


DEFAULT_COLORS = ("#b3261e", "#ffd54f")


def branding_colors(branding: Branding) -> tuple[str, str]:
    """The main and accent colours, each a checked #RRGGBB (the defaults otherwise)."""

    def checked(value: str, default: str) -> str:
        return value if COLOR_RE.match(value or "") else default

    return (
        checked(branding.primary_color, DEFAULT_COLORS[0]),
        checked(branding.accent_color, DEFAULT_COLORS[1]),
    )


def branding_stylesheet(branding: Branding) -> str:
    """The agency's colours as CSS custom properties: served as a stylesheet of its own
    (portal.views.branding_css), since the Content-Security-Policy allows no inline style."""
    brand, accent = branding_colors(branding)
    return f":root{{--brand:{brand};--accent:{accent};}}\n"


def branding_stylesheet_version(branding: Branding) -> str:
    """Part of the stylesheet's URL: new colours, a new URL, so browsers may keep each one."""
    return "".join(branding_colors(branding)).replace("#", "").lower()


def _checked_logo(upload: UploadedFile) -> ContentFile[bytes]:
    if (upload.size or 0) > LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is %(size)s; it may be at most %(limit)s.")
            % {"size": filesizeformat(upload.size or 0), "limit": filesizeformat(LOGO_MAX_BYTES)}
        )
    try:
        upload.seek(0)
        probe = Image.open(upload)
        probe.verify()  # structure check; the image must be reopened after verify()
        upload.seek(0)
        image: Image.Image = Image.open(upload)
        if image.format not in {"PNG", "JPEG", "WEBP", "GIF"}:
            raise ValidationError(_("The logo must be a PNG, JPEG, WEBP or GIF image."))
        if max(image.size) > LOGO_MAX_SIDE:
            raise ValidationError(
                _("The logo is %(w)d×%(h)d pixels; at most %(max)d pixels a side.")
                % {"w": image.size[0], "h": image.size[1], "max": LOGO_MAX_SIDE}
            )
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("The logo is not a readable image.")) from exc
    image = image.convert("RGBA")
    image.thumbnail((LOGO_STORED_MAX_SIDE, LOGO_STORED_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"logo-{uuid.uuid4().hex[:12]}.png")


def branding_update(
    *,
    actor: User | None = None,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
    **values: str,
) -> Branding:
    """Change the branding; every value is checked, rich text is sanitised."""
    allowed = {
        "display_name",
        "primary_color",
        "accent_color",
        "address",
        "phone",
        "email",
        "working_hours",
        "privacy_url",
        "announcements",
    }
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"unknown branding fields: {unknown}")
    errors: dict[str, list[str]] = {}
    for key in ("primary_color", "accent_color"):
        if key in values and not COLOR_RE.match(values[key] or ""):
            errors[key] = [_("Enter a colour as #RRGGBB, e.g. #b3261e.")]
    if (
        "privacy_url" in values
        and values["privacy_url"]
        and not values["privacy_url"].startswith(("https://", "http://"))
    ):
        errors["privacy_url"] = [_("Enter a full web address starting with https://.")]
    new_logo = None
    if logo is not None:
        try:
            new_logo = _checked_logo(logo)
        except ValidationError as exc:
            errors["logo"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if "announcements" in values:
        values["announcements"] = sanitize_html(values["announcements"])
    stored_logo = ""  # a file written by this call, to remove if the save fails
    try:
        with transaction.atomic():
            branding = Branding.objects.select_for_update().filter(pk=1).first() or Branding(pk=1)
            old_logo = branding.logo.name if branding.logo else ""
            for key, value in values.items():
                setattr(branding, key, value.strip() if isinstance(value, str) else value)
            branding.full_clean(exclude=["logo"])
            if new_logo is not None:
                branding.logo.save(new_logo.name or "logo.png", new_logo, save=False)
                stored_logo = branding.logo.name
            elif remove_logo:
                branding.logo = ""
            branding.save()
            audit_record(
                action="branding.updated",
                actor=actor,
                target="branding",
                fields=sorted(values),
                logo=bool(new_logo) or remove_logo,
            )
            failpoint("branding.before_commit")
            if old_logo and (new_logo is not None or remove_logo):
                on_commit_in_schema(lambda: default_storage.delete(old_logo))
            on_commit_in_schema(_branding_changed)
            on_commit_in_schema(portal_pages_changed)
    except BaseException:
        # The row was rolled back; the file written for it must not stay behind.
        if stored_logo:
            default_storage.delete(stored_logo)
        raise
    return branding
