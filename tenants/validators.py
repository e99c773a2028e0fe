"""Validation of agency slugs, schema names and hostnames, before anything touches the database."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SCHEMA_RE = re.compile(r"^[a-z][a-z0-9_]*$")
HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

SLUG_MAX_LENGTH = 50
SCHEMA_MAX_LENGTH = 63  # PostgreSQL's NAMEDATALEN - 1

# Names an agency can never take: they are hostnames the platform serves itself,
# or schemas PostgreSQL and the platform already own.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "cdn",
        "console",
        "docs",
        "ftp",
        "health",
        "help",
        "localhost",
        "mail",
        "media",
        "portal",
        "public",
        "smtp",
        "static",
        "status",
        "support",
        "template",
        "agency-template",
        "www",
    }
)
RESERVED_SCHEMAS = frozenset(
    {
        "public",
        "information_schema",
        "agency_template",
        "pg_catalog",
        "pg_toast",
        "motcua_snapshot_check",  # tenants.snapshot's scratch schema
    }
)
# PostgreSQL's reserved key words (pg_get_keywords(), categories R and T): a schema
# with such a name breaks every statement that forgets to quote it.
SQL_RESERVED_WORDS = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)


def _reserved_schema(value: str) -> bool:
    from django.conf import settings

    return (
        value in RESERVED_SCHEMAS
        or value == getattr(settings, "TENANT_BASE_SCHEMA", "agency_template")
        or value.startswith("pg_")
        or value in SQL_RESERVED_WORDS
    )


def validate_slug(value: str) -> None:
    if not value:
        raise ValidationError(_("The agency slug is required."), code="required")
    if len(value) > SLUG_MAX_LENGTH:
        raise ValidationError(
            _("The agency slug “%(value)s” is too long: at most %(max)d characters."),
            code="max_length",
            params={"value": value, "max": SLUG_MAX_LENGTH},
        )
    if not SLUG_RE.match(value):
        raise ValidationError(
            _(
                "The agency slug “%(value)s” is not valid: use lowercase letters a-z, "
                "digits and single hyphens, starting with a letter (e.g. “phuong-hong-bang”)."
            ),
            code="invalid",
            params={"value": value},
        )
    if value in RESERVED_SLUGS or _reserved_schema(schema_name_for_slug(value)):
        raise ValidationError(
            _("The agency slug “%(value)s” is reserved by the platform."),
            code="reserved",
            params={"value": value},
        )


AGENCY_CODE_RE = re.compile(r"^[A-Z0-9]{1,12}$")


def validate_agency_code(value: str) -> None:
    if not AGENCY_CODE_RE.match(value):
        raise ValidationError(
            _("The agency code “%(value)s” must be 1 to 12 capital letters or digits."),
            code="invalid",
            params={"value": value},
        )


def schema_name_for_slug(slug: str) -> str:
    """Every agency's schema is named after its slug (hyphens become underscores)."""
    return slug.replace("-", "_")


def validate_schema_name(value: str) -> None:
    if len(value) > SCHEMA_MAX_LENGTH:
        raise ValidationError(
            _("The schema name “%(value)s” is too long: at most %(max)d characters."),
            code="max_length",
            params={"value": value, "max": SCHEMA_MAX_LENGTH},
        )
    if not SCHEMA_RE.match(value):
        raise ValidationError(
            _(
                "The schema name “%(value)s” is not valid: lowercase letters, digits and "
                "underscores only, starting with a letter."
            ),
            code="invalid",
            params={"value": value},
        )
    if _reserved_schema(value):
        raise ValidationError(
            _(
                "The schema name “%(value)s” is reserved (PostgreSQL or the platform uses "
                "it): choose another."
            ),
            code="reserved",
            params={"value": value},
        )


def validate_hostname(value: str) -> None:
    host = value.strip().lower()
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or len(labels) < 2
        or not all(HOST_LABEL_RE.match(label) for label in labels)
    ):
        raise ValidationError(
            _("“%(value)s” is not a valid hostname (e.g. “motcua.haiphong.gov.vn”)."),
            code="invalid",
            params={"value": value},
        )
