"""Reading the trails: an agency's (its audit entries and its dossiers' history, in its
schema) and the provider's (agencies, applications, billing, accounts, in public).

Each trail is one ``UNION ALL`` over its append-only tables, newest first, as rows of the same
shape (``TrailRow``), so one page, one filter form and one CSV export serve both. Filters are
applied to each table before the union; every table is scanned by its ``created_at``/``at``
index for a date range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

# Columns of a trail row, in order: the union matches them by position.
COLUMNS = ("at", "actor_id", "actor_email", "action", "obj", "info", "note", "kind")
ACTIONS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class TrailFilter:
    """What to show: every field optional. ``start``/``end`` are local days, inclusive."""

    person: str = ""  # e-mail or name (contains)
    target: str = ""  # the object: a dossier code, procedure code, agency slug... (contains)
    action: str = ""  # one action, exactly
    start: dt.date | None = None
    end: dt.date | None = None
    kind: str = ""  # provider trail: agency / application / billing / account


@dataclass(frozen=True)
class TrailRow:
    at: dt.datetime
    actor_id: int | None
    actor_email: str
    action: str
    obj: str
    info: dict[str, Any]
    note: str
    kind: str

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> TrailRow:
        return cls(**{name: values[name] for name in COLUMNS})


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _period(field: str, f: TrailFilter) -> Q:
    q = Q()
    if f.start:
        q &= Q(**{f"{field}__gte": _day_start(f.start)})
    if f.end:
        q &= Q(**{f"{field}__lt": _day_start(f.end + dt.timedelta(days=1))})
    return q


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _shaped(qs: QuerySet[Any], **columns: Any) -> QuerySet[Any]:
    """``qs`` as trail rows: the columns annotated under their trail names, in order."""
    renamed = {f"t_{name}": expression for name, expression in columns.items()}
    shaped: QuerySet[Any] = qs.order_by().annotate(**renamed).values(*renamed)
    return shaped


# -- The agency's trail (agency schema) ----------------------------------------------------


def _people(person: str) -> Any:
    """Ids of the people whose e-mail or name contains ``person`` (users live in public)."""
    from accounts.models import User

    return User.objects.filter(Q(email__icontains=person) | Q(full_name__icontains=person)).values(
        "pk"
    )


def agency_trail(f: TrailFilter) -> QuerySet[Any]:
    """The active agency's trail: its audit entries and its dossiers' history, newest first.

    Dossier events show as actions ``dossier.<action>`` on the dossier's code.
    """
    from audit.models import AuditEntry
    from dossiers.models import DossierEvent

    entries = AuditEntry.objects.filter(_period("created_at", f))
    events = DossierEvent.objects.filter(_period("at", f))
    if f.person:
        entries = entries.filter(actor_id__in=_people(f.person))
        events = events.filter(actor_id__in=_people(f.person))
    if f.target:
        entries = entries.filter(target__icontains=f.target)
        events = events.filter(dossier__code__icontains=f.target)
    if f.action:
        entries = entries.filter(action=f.action)
        prefix = "dossier."
        events = (
            events.filter(action=f.action.removeprefix(prefix))
            if f.action.startswith(prefix)
            else events.none()
        )
    audit_rows = _shaped(
        entries,
        at=F("created_at"),
        actor_id=F("actor_id"),
        actor_email=_text(""),
        action=F("action"),
        obj=F("target"),
        info=F("detail"),
        note=_text(""),
        kind=_text("audit"),
    )
    dossier_rows = _shaped(
        events,
        at=F("at"),
        actor_id=F("actor_id"),
        actor_email=_text(""),
        action=Concat(_text("dossier."), F("action"), output_field=CharField()),
        obj=F("dossier__code"),
        info=F("details"),
        note=F("note"),
        kind=_text("dossier"),
    )
    return audit_rows.union(dossier_rows, all=True).order_by("-t_at")


def agency_trail_actions() -> list[str]:
    """The actions the agency's trail holds (for the filter's list), cached briefly."""
    from audit.models import AuditEntry
    from dossiers.models import DossierEvent

    key = "audit:trail-actions"
    actions = cache.get(key)
    if actions is None:
        audit_actions = set(AuditEntry.objects.values_list("action", flat=True).distinct())
        dossier_actions = {
            f"dossier.{a}" for a in DossierEvent.objects.values_list("action", flat=True).distinct()
        }
        actions = sorted(audit_actions | dossier_actions)
        cache.set(key, actions, ACTIONS_CACHE_SECONDS)
    return list(actions)


# -- The provider's trail (public schema) --------------------------------------------------

PROVIDER_KINDS = ("agency", "application", "billing", "account")


def provider_trail(f: TrailFilter) -> QuerySet[Any]:
    """What happened to agencies, applications, billing and accounts, newest first."""
    from accounts.models import AccountEvent
    from billing.models import BillingEvent
    from onboarding.models import ApplicationEvent
    from tenants.models import AgencyEvent

    sources: list[tuple[str, QuerySet[Any], Any]] = [
        ("agency", AgencyEvent.objects.all(), F("agency__slug")),
        (
            "application",
            ApplicationEvent.objects.all(),
            Concat(
                _text("#"),
                Cast("application_id", CharField()),
                _text(" "),
                F("application__slug"),
                output_field=CharField(),
            ),
        ),
        (
            "billing",
            BillingEvent.objects.all(),
            Coalesce(
                F("invoice__number"),
                F("billing_account__name"),
                _text(""),
                output_field=CharField(),
            ),
        ),
        ("account", AccountEvent.objects.all(), F("user__email")),
    ]
    parts = []
    for kind, qs, obj in sources:
        if f.kind and f.kind != kind:
            continue
        qs = qs.filter(_period("created_at", f))
        if f.person:
            qs = qs.filter(actor_email__icontains=f.person)
        if f.action:
            qs = qs.filter(event=f.action)
        qs = qs.annotate(trail_obj=obj)
        if f.target:
            qs = qs.filter(trail_obj__icontains=f.target)
        parts.append(
            _shaped(
                qs,
                at=F("created_at"),
                actor_id=Value(None, output_field=CharField()),
                actor_email=F("actor_email"),
                action=F("event"),
                obj=F("trail_obj"),
                info=F("detail"),
                note=_text(""),
                kind=_text(kind),
            )
        )
    if not parts:
        return AgencyEvent.objects.none().values()
    first, *rest = parts
    return (first.union(*rest, all=True) if rest else first).order_by("-t_at")


def provider_trail_actions() -> list[str]:
    from accounts.models import AccountEvent
    from billing.models import BillingEvent
    from onboarding.models import ApplicationEvent
    from tenants.models import AgencyEvent

    key = "audit:provider-trail-actions"
    actions = cache.get(key)
    if actions is None:
        found: set[str] = set()
        for model in (AgencyEvent, ApplicationEvent, BillingEvent, AccountEvent):
            found |= set(model.objects.values_list("event", flat=True).distinct())
        actions = sorted(found)
        cache.set(key, actions, ACTIONS_CACHE_SECONDS)
    return list(actions)


def trail_rows(values: Any) -> list[TrailRow]:
    """Rows of a trail queryset (or a slice of it) as ``TrailRow``s."""
    return [TrailRow.from_values({name: row[f"t_{name}"] for name in COLUMNS}) for row in values]
