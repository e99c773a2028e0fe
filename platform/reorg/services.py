"""Merging agencies A, B, … into an agency C, effective on a date.

``merge_plan`` is the dry run: what moves (rows per table, files, staff, API keys) and what
clashes (procedures both sides adopted, side by side; dossier codes; API key prefixes; staff
with roles on both sides). ``merge_create`` records a merge from a plan that has no blocking
problem; ``merge_run`` executes it as a sequence of idempotent steps, each recorded in
:class:`~reorg.models.MergeStep` once done. A run killed at any point (kill -9) is finished by
running it again: a step not recorded is redone, and redoing one is harmless (rows are written
with deterministic ids and ``ON CONFLICT DO NOTHING``, files are checked before copying).

The rows move through ``lifecycle.move``, reading from the source agency's endpoint
and writing to the target's: never one SQL statement over two schemas, so the source and the
target may sit on different database clusters.

The source agencies are suspended while their rows are copied (their citizens can still
track), and marked merged at the end: their hosts then redirect to C. Their schemas are kept,
read-only, so their history and exit packs stay available.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection as django_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from billing.accounts import agency_merged_billing
from core.failpoints import failpoint
from lifecycle import move
from nationalsync.services import sync_agency_merged
from reorg.models import Merge, MergeSource, MergeStatus, MergeStep
from reports.services import stats_merge
from tenants import schemas
from tenants.context import agency_context
from tenants.models import Agency, AgencyStatus, SchemaState
from tenants.services import (
    agency_create,
    agency_event_record,
    agency_mark_merged,
    agency_provision,
    agency_set_status,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
LOCK = "reorg.merge"


def endpoint(agency: Agency) -> move.Endpoint:
    """Where an agency's schema lives. One cluster today; placement will pick the alias."""
    return move.Endpoint(schema=agency.schema_name, alias="default")


# -- the dry run ----------------------------------------------------------------------------


def _bad(message: str, kind: str = "invalid", **params: Any) -> ValidationError:
    return ValidationError(message, code=kind, params=params or None)


def agencies_by_slug(slugs: list[str]) -> list[Agency]:
    """The agencies named, in the order given; unknown or repeated slugs are refused."""
    cleaned = [s.strip() for s in slugs if s.strip()]
    if len(set(cleaned)) != len(cleaned):
        raise _bad(_("An agency is named twice."), "duplicate")
    found = {a.slug: a for a in Agency.objects.filter(slug__in=cleaned)}
    missing = [s for s in cleaned if s not in found]
    if missing:
        raise ValidationError(
            _("Unknown agency: %(slugs)s."), code="unknown", params={"slugs": ", ".join(missing)}
        )
    return [found[s] for s in cleaned]


def _fingerprint(agency: Agency) -> str:
    state = SchemaState.objects.filter(schema_name=agency.schema_name).first()
    return state.fingerprint if state else ""


def new_agency_check(new: dict[str, str]) -> None:
    """An agency to create for a reorganisation: its address and name, not taken."""
    slug = (new.get("slug") or "").strip()
    if not slug or not (new.get("name") or "").strip():
        raise _bad(_("Name the target agency, or give the new agency's address and name."))
    if Agency.objects.filter(slug=slug).exists():
        raise _bad(_("An agency with the address “%(slug)s” exists already."), "taken", slug=slug)


def new_agency_create(new: dict[str, str], *, like: Agency, actor_email: str = "") -> Agency:
    """Register the new agency of a reorganisation (provisioning; its run builds the schema),
    of the kind, province and parent of ``like``."""
    return agency_create(
        slug=new["slug"].strip(),
        name=new["name"].strip(),
        code=(new.get("code") or "").strip(),
        kind=like.kind,
        province_code=like.province_code,
        parent=like.parent,
        actor_email=actor_email,
    )


def target_provision(target_id: int) -> dict[str, Any]:
    """A target created for the reorganisation gets its schema (provisioning is idempotent)."""
    target = Agency.objects.get(pk=target_id)
    if target.status == AgencyStatus.PROVISIONING:
        result = agency_provision(agency=target)
        return {"provisioned": target.slug, "via": result.created_via}
    return {}


def _validate(sources: list[Agency], target: Agency | None, effective_on: Any) -> None:
    if not sources:
        raise _bad(_("Name at least one agency to merge."), "required")
    if not isinstance(effective_on, dt.date):
        raise _bad(_("Give the date the merge takes effect on."), "required")
    for agency in (*([target] if target is not None else []), *sources):
        agency.refresh_from_db()  # the status as it is now, not as the caller last saw it
    if target is not None and target.pk in {s.pk for s in sources}:
        raise _bad(_("An agency cannot be merged into itself."), "self")
    if target is not None and target.status != AgencyStatus.ACTIVE:
        raise _bad(_("The target agency “%(name)s” is not active."), "status", name=target.name)
    # a new target is built at the code's schema version
    expected = _fingerprint(target) if target is not None else schemas.migration_fingerprint()
    taken = MergeSource.objects.filter(agency__in=sources).select_related("agency")
    for row in taken:
        raise _bad(_("“%(name)s” is already part of another merge."), "taken", name=row.agency.name)
    for source in sources:
        if source.status not in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
            raise _bad(
                _("“%(name)s” cannot be merged: it is %(status)s."),
                "status",
                name=source.name,
                status=source.get_status_display(),
            )
        if not schemas.schema_exists(source.schema_name):
            raise _bad(_("“%(name)s” has no schema."), "schema", name=source.name)
        if _fingerprint(source) != expected:
            raise _bad(
                _("“%(name)s” and the target are at different schema versions: migrate both."),
                "schema",
                name=source.name,
            )


def merge_plan(
    *,
    sources: list[Agency],
    target: Agency | None,
    effective_on: dt.date,
    choices: dict[str, str] | None = None,
    new_target: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What a merge would move and what clashes; raises ValidationError on impossible input.

    ``target`` None with ``new_target`` ({slug, name, code}): an agency created for the merge
    (it has nothing yet, so nothing clashes and nothing of it is kept)."""
    choices = dict(choices or {})
    if target is None:
        new_agency_check(new_target or {})
    _validate(sources, target, effective_on)
    tables = move.moved_tables()
    target_procedures: dict[str, dict[str, Any]] = {}
    target_codes: set[str] = set()
    target_keys: set[str] = set()
    target_staff: dict[int, Membership] = {}
    kept: dict[str, int] = {}
    if target is not None:
        t_end = endpoint(target)
        target_procedures = move.procedures_of(t_end)
        target_codes = move.column_values(t_end, move.DOSSIER_TABLE, "code")
        target_keys = move.column_values(t_end, "api_apikey", "prefix")
        target_staff = {
            m.user_id: m
            for m in Membership.objects.filter(agency=target, is_active=True).select_related("user")
        }
        kept = {
            t: move.table_count(t_end, t)
            for t in move.KEPT_FROM_TARGET
            if t not in ("django_content_type", "dossiers_dossiercounter")
        }
    t_slug = target.slug if target is not None else (new_target or {})["slug"].strip()
    plan: dict[str, Any] = {
        "target": (
            {"slug": target.slug, "name": target.name, "new": False}
            if target is not None
            else {**(new_target or {}), "slug": t_slug, "new": True}
        ),
        "effective_on": effective_on.isoformat(),
        "sources": [],
        "clashes": {
            "procedures": [],
            "between_sources": [],
            "dossier_codes": [],
            "api_keys": [],
            "staff": [],
        },
        "kept_from_target": kept,
    }
    by_code: dict[str, dict[str, Any]] = {}
    first_brings: dict[str, tuple[str, dict[str, Any]]] = {}
    for source in sources:
        s_end = endpoint(source)
        counts = {t.name: move.table_count(s_end, t.name) for t in tables}
        files = sum(len(move.column_values(s_end, t.name, c)) for t in tables for c in t.files)
        staff = list(
            Membership.objects.filter(agency=source, is_active=True).select_related("user")
        )
        plan["sources"].append(
            {
                "slug": source.slug,
                "name": source.name,
                "rows": counts,
                "dossiers": move.dossier_status_counts(s_end),
                "files": files,
                "staff": len(staff),
            }
        )
        for code, settings in move.procedures_of(s_end).items():
            if code not in target_procedures and code in first_brings:
                # two sources have it, the target not: the first source's settings win
                slug, first = first_brings[code]
                plan["clashes"]["between_sources"].append(
                    {
                        "code": code,
                        "winner": slug,
                        "source": source.slug,
                        "differs": sorted(
                            k for k in move.PROCEDURE_SETTINGS if settings[k] != first[k]
                        ),
                    }
                )
            elif code not in target_procedures:
                first_brings[code] = (source.slug, settings)
            if code in target_procedures:
                entry = by_code.setdefault(
                    code,
                    {
                        "code": code,
                        "target": _plain(target_procedures[code]),
                        "sources": {},
                        "differs": [],
                    },
                )
                entry["sources"][source.slug] = _plain(settings)
                entry["differs"] = sorted(
                    set(entry["differs"])
                    | {
                        k
                        for k in move.PROCEDURE_SETTINGS
                        if settings[k] != target_procedures[code][k]
                    }
                )
        for code in sorted(move.column_values(s_end, move.DOSSIER_TABLE, "code") & target_codes):
            plan["clashes"]["dossier_codes"].append({"code": code, "source": source.slug})
        for prefix in sorted(move.column_values(s_end, "api_apikey", "prefix") & target_keys):
            plan["clashes"]["api_keys"].append({"prefix": prefix, "source": source.slug})
        for m in staff:
            if m.user_id in target_staff and sorted(m.roles) != sorted(
                target_staff[m.user_id].roles
            ):
                plan["clashes"]["staff"].append(
                    {
                        "email": m.user.email,
                        "source": source.slug,
                        "source_roles": sorted(m.roles),
                        "target_roles": sorted(target_staff[m.user_id].roles),
                    }
                )
    allowed = {t_slug, *(s.slug for s in sources)}
    for code, slug in choices.items():
        if code not in by_code:
            raise _bad(
                _("Procedure %(code)s does not clash: there is nothing to choose."),
                "choice",
                code=code,
            )
        if slug not in allowed or (slug != t_slug and slug not in by_code[code]["sources"]):
            raise _bad(
                _("For procedure %(code)s choose the target or a source that has it."),
                "choice",
                code=code,
            )
    for code, entry in sorted(by_code.items()):
        entry["winner"] = choices.get(code, t_slug)
        plan["clashes"]["procedures"].append(entry)
    return plan


def _plain(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k != "id"}


def merge_create(
    *,
    sources: list[Agency],
    target: Agency | None,
    effective_on: dt.date,
    choices: dict[str, str] | None = None,
    actor_email: str = "",
    new_target: dict[str, str] | None = None,
) -> Merge:
    """Record a merge (status planned) from a valid plan; nothing is moved yet. A new target
    (``target`` None, ``new_target`` given) is registered now; the run builds its schema."""
    plan = merge_plan(
        sources=sources,
        target=target,
        effective_on=effective_on,
        choices=choices,
        new_target=new_target,
    )
    with transaction.atomic():
        if target is None:
            target = new_agency_create(new_target or {}, like=sources[0], actor_email=actor_email)
        merge = Merge.objects.create(
            target=target,
            effective_on=effective_on,
            plan=plan,
            choices=dict(choices or {}),
            actor_email=actor_email,
        )
        for position, source in enumerate(sources):
            MergeSource.objects.create(merge=merge, agency=source, position=position)
        agency_event_record(
            target,
            "merge_planned",
            actor_email=actor_email,
            merge=merge.pk,
            sources=[s.slug for s in sources],
            effective_on=effective_on.isoformat(),
        )
    return merge


# -- the run --------------------------------------------------------------------------------


class MergeBusy(RuntimeError):
    pass


def merge_steps(merge: Merge) -> list[tuple[str, Callable[[], dict[str, Any] | None]]]:
    """Every step of the merge, in order: (unique name, function returning the step's detail)."""
    target = merge.target
    sources = [s.agency for s in merge.sources.select_related("agency")]
    tables = move.moved_tables()
    steps: list[tuple[str, Callable[[], dict[str, Any] | None]]] = []
    steps.append(("target", lambda: target_provision(merge.target_id)))
    steps.append(("freeze", lambda: _freeze(merge, sources)))
    for source in sources:
        steps.append((f"reserve:{source.slug}", _bind(_reserve, merge, source, tables)))
    for source in sources:
        done: set[str] = set()
        for table in tables:
            deferred = move.deferred_links(table, done)
            steps.append(
                (
                    f"copy:{source.slug}:{table.name}",
                    _bind(_copy_table, merge, source, table, tuple(deferred)),
                )
            )
            done.add(table.name)
        steps.append((f"relink:{source.slug}", _bind(_relink, merge, source, tables)))
        steps.append((f"procedures:{source.slug}", _bind(_take_over, merge, source)))
        steps.append((f"files:{source.slug}", _bind(_files, merge, source, tables)))
        steps.append((f"aliases:{source.slug}", _bind(_aliases, merge, source, tables)))
        steps.append((f"staff:{source.slug}", _bind(_staff, merge, source)))
        steps.append((f"billing:{source.slug}", _bind(_billing, merge, source)))
        steps.append((f"history:{source.slug}", _bind(_history, merge, source)))
    for source in sources:
        steps.append((f"close:{source.slug}", _bind(_close, merge, source, target)))
    steps.append(("verify", lambda: merge_verify(merge)))
    return steps


def _bind(func: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: func(*args)


def merge_run(merge: Merge, *, progress: Progress | None = None) -> Merge:
    """Run (or finish) a merge. Only one run at a time; re-running a finished one is a no-op."""
    with reorg_lock():
        return _run(merge, progress)


@contextlib.contextmanager
def reorg_lock() -> Iterator[None]:
    """One reorganisation (merge or split) runs at a time, on the whole platform."""
    with django_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [schemas.advisory_key(LOCK)])
        if not cursor.fetchone()[0]:
            raise MergeBusy(_("Another merge is running; try again when it has finished."))
    try:
        yield
    finally:
        with django_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [schemas.advisory_key(LOCK)])


def _run(merge: Merge, progress: Progress | None) -> Merge:
    merge = Merge.objects.select_related("target").get(pk=merge.pk)
    if merge.status == MergeStatus.FINISHED:
        return merge
    run_recorded(merge, merge_steps(merge), MergeStep, progress)
    agency_event_record(
        merge.target, "merge_finished", actor_email=merge.actor_email, merge=merge.pk
    )
    if progress:
        progress(100, "finished")
    merge.refresh_from_db()
    return merge


def run_recorded(
    job: Any,
    steps: list[tuple[str, Callable[[], dict[str, Any] | None]]],
    step_model: Any,
    progress: Progress | None,
) -> None:
    """Run the steps of a reorganisation (a merge or a split) not recorded as done yet, each
    recorded once done; the job shows its step and percentage. A failure marks it failed
    (running it again finishes it) and is raised."""
    rows = type(job).objects.filter(pk=job.pk)
    owner = type(job)._meta.model_name
    rows.update(status=MergeStatus.RUNNING, error="", started_at=job.started_at or timezone.now())
    done = set(step_model.objects.filter(**{owner: job}).values_list("name", flat=True))
    try:
        for index, (name, func) in enumerate(steps):
            if name in done:
                continue
            percent = int(100 * index / len(steps))
            rows.update(step=name, percent=percent)
            if progress:
                progress(percent, name)
            detail = func() or {}
            failpoint("reorg.before_record." + name.replace(":", "."))
            step_model.objects.get_or_create(**{owner: job}, name=name, defaults={"detail": detail})
            failpoint("reorg.after_step")
    except Exception as exc:
        logger.exception("%s %s failed at a step", owner, job.pk)
        rows.update(status=MergeStatus.FAILED, error=str(exc)[:2000])
        raise
    rows.update(status=MergeStatus.FINISHED, step="", percent=100, finished_at=timezone.now())


def _freeze(merge: Merge, sources: list[Agency]) -> dict[str, Any]:
    """Sources take no new work while their rows move (their citizens can still track)."""
    frozen = []
    for source in sources:
        source.refresh_from_db()
        if source.status == AgencyStatus.ACTIVE:
            agency_set_status(
                agency=source,
                status=AgencyStatus.SUSPENDED,
                actor_email=merge.actor_email,
                reason=f"merge {merge.pk}",
            )
            frozen.append(source.slug)
    return {"suspended": frozen}


def _map(merge: Merge, source: Agency) -> move.MoveMap:
    merge.refresh_from_db(fields=["maps"])
    return move.MoveMap.from_json(merge.maps[source.slug])


def _reserve(merge: Merge, source: Agency, tables: list[move.Table]) -> dict[str, Any]:
    """Reserve the target's ids for this source and fix how its rows are rewritten."""
    merge.refresh_from_db(fields=["maps"])
    if source.slug in merge.maps:  # reserved by a run killed before recording the step
        return {"offsets": merge.maps[source.slug]["offsets"]}
    mapping = move_map(
        source=source,
        target=merge.target,
        tables=tables,
        choices=merge.choices,
        earlier=list(merge.maps.values()),
    )
    with transaction.atomic():
        locked = Merge.objects.select_for_update().get(pk=merge.pk)
        locked.maps = {**locked.maps, source.slug: mapping.as_json()}
        locked.save(update_fields=["maps"])
    merge.maps = locked.maps
    return {"offsets": mapping.offsets, "renamed_codes": len(mapping.codes)}


def move_map(
    *,
    source: Agency,
    target: Agency,
    tables: list[move.Table],
    choices: dict[str, str],
    earlier: list[dict[str, Any]] | None = None,
    only: dict[str, list[Any]] | None = None,
) -> move.MoveMap:
    """Reserve the target's ids for the source's rows (``only``: a split's selection) and fix
    how they are rewritten: procedures the target has, version numbers, clashing codes.

    ``earlier``: the maps of sources already placed in this reorganisation (their versions).
    ``setval`` is not transactional: the caller stores the map at once, a crash before that
    wastes the block of ids, never reuses it.
    """
    s_end, t_end = endpoint(source), endpoint(target)
    mapping = move.MoveMap(source_schema=source.schema_name)
    for table in tables:
        if table.integer_pk and table.pk not in table.links:
            mapping.offsets[table.name] = move.ids_reserve(t_end, table, move.max_id(s_end, table))
    for table in tables:  # one-to-one primary keys take their parent's offset
        if table.pk in table.links:
            mapping.offsets[table.name] = mapping.offsets.get(table.links[table.pk], 0)
    target_procedures = move.procedures_of(t_end)
    target_versions = move.version_numbers(t_end)
    source_versions = move.version_numbers(s_end)
    placed_codes: dict[str, int] = {}
    for placed in earlier or []:  # procedures and versions already placed by an earlier source
        for tid, top in placed.get("version_top", {}).items():
            target_versions[int(tid)] = max(target_versions.get(int(tid), 0), int(top))
        placed_codes.update(placed.get("placed_codes", {}))
    proc_offset = mapping.offsets.get(move.PROCEDURE_TABLE, 0)
    moving_procedures = None if only is None else set(only.get(move.PROCEDURE_TABLE, []))
    for code, settings in move.procedures_of(s_end).items():
        sid = int(settings["id"])
        if moving_procedures is not None and sid not in moving_procedures:
            continue
        if code in target_procedures or code in placed_codes:
            # the target's own, or the one an earlier source of this merge brings
            tid = (
                int(target_procedures[code]["id"])
                if code in target_procedures
                else int(placed_codes[code])
            )
            mapping.procedures[str(sid)] = tid
            mapping.version_shift[str(sid)] = target_versions.get(tid, 0)
            mapping.version_top[str(tid)] = target_versions.get(tid, 0) + source_versions.get(
                sid, 0
            )
            if choices.get(code) == source.slug:
                mapping.taken_over.append(sid)
        else:
            mapping.procedures[str(sid)] = sid + proc_offset
            mapping.placed_codes[code] = sid + proc_offset
            mapping.version_top[str(sid + proc_offset)] = source_versions.get(sid, 0)
    moving_codes = _moving_values(s_end, move.DOSSIER_TABLE, "code", only)
    target_codes = move.column_values(t_end, move.DOSSIER_TABLE, "code")
    for code in sorted(moving_codes & target_codes):
        mapping.codes[code] = f"{code}-{source.code or source.pk}"[:40]
    target_ext = move.column_values(t_end, move.DOSSIER_TABLE, "external_id")
    moving_ext = _moving_values(s_end, move.DOSSIER_TABLE, "external_id", only)
    for ext in sorted(moving_ext & target_ext):
        mapping.external_ids[ext] = f"{source.slug}:{ext}"[:100]
    target_keys = move.column_values(t_end, "api_apikey", "prefix")
    mapping.skipped_api_keys = sorted(
        _moving_values(s_end, "api_apikey", "prefix", only) & target_keys
    )
    return mapping


def _moving_values(
    s_end: move.Endpoint, table: str, column: str, only: dict[str, list[Any]] | None
) -> set[str]:
    if only is None:
        return move.column_values(s_end, table, column)
    spec = move.table_map()[table]
    found: set[str] = set()
    for page in move.iter_rows(s_end, spec, only.get(table, [])):
        for _pk, text in page:
            value = json.loads(text).get(column)
            if value is not None:
                found.add(value)
    return found


def _copy_table(
    merge: Merge, source: Agency, table: move.Table, deferred: tuple[str, ...]
) -> dict[str, Any]:
    return copy_table(
        endpoint(source), endpoint(merge.target), table, _map(merge, source), deferred
    )


def copy_table(
    s_end: move.Endpoint,
    t_end: move.Endpoint,
    table: move.Table,
    mapping: move.MoveMap,
    deferred: tuple[str, ...],
    only: list[Any] | None = None,
) -> dict[str, Any]:
    """Copy a table's rows (``only``: these primary keys), rewritten, page by page."""
    read = written = 0
    for page in move.iter_rows(s_end, table, only):
        rows = []
        for _pk, text in page:
            row = move.rewrite(table, json.loads(text), mapping)
            if row is None:
                continue
            for column in deferred:
                row[column] = None
            rows.append(row)
        read += len(page)
        with t_end.atomic():
            written += move.write_rows(t_end, table, rows)
        failpoint("reorg.after_page")
    return {"read": read, "written": written}


def _relink(merge: Merge, source: Agency, tables: list[move.Table]) -> dict[str, Any]:
    return relink(endpoint(source), endpoint(merge.target), tables, _map(merge, source))


def relink(
    s_end: move.Endpoint,
    t_end: move.Endpoint,
    tables: list[move.Table],
    mapping: move.MoveMap,
    only: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """Fill the links that pointed forward (e.g. a procedure's published version)."""
    done: set[str] = set()
    filled = 0
    for table in tables:
        deferred = move.deferred_links(table, done)
        done.add(table.name)
        if only is not None and not only.get(table.name):
            continue
        rows_only = None if only is None else only[table.name]
        for column in deferred:
            for page in move.iter_rows(s_end, table, rows_only):
                pairs = []
                for _pk, text in page:
                    row = move.rewrite(table, json.loads(text), mapping)
                    if row is not None and row[column] is not None:
                        pairs.append((row[table.pk], row[column]))
                with t_end.atomic():
                    move.links_set(t_end, table, column, pairs)
                filled += len(pairs)
    return {"filled": filled}


def _take_over(merge: Merge, source: Agency) -> dict[str, Any]:
    return take_over(source, merge.target, _map(merge, source))


def take_over(source: Agency, target: Agency, mapping: move.MoveMap) -> dict[str, Any]:
    if not mapping.taken_over:
        return {}
    s_end, t_end = endpoint(source), endpoint(target)
    by_id = {int(s["id"]): s for s in move.procedures_of(s_end).values()}
    with t_end.atomic():
        for sid in mapping.taken_over:
            move.procedure_take_over(t_end, mapping.procedures[str(sid)], by_id[sid])
    return {"procedures": [by_id[s]["code"] for s in mapping.taken_over]}


def _files(merge: Merge, source: Agency, tables: list[move.Table]) -> dict[str, Any]:
    return copy_files(source, merge.target, tables)


def stored_files(
    s_end: move.Endpoint, tables: list[move.Table], only: dict[str, list[Any]] | None = None
) -> list[str]:
    """Names of the stored files the (selected) rows name."""
    if only is None:
        return sorted(
            {n for t in tables for c in t.files for n in move.column_values(s_end, t.name, c) if n}
        )
    names: set[str] = set()
    for t in tables:
        if not t.files or not only.get(t.name):
            continue
        for page in move.iter_rows(s_end, t, only[t.name]):
            for _pk, text in page:
                row = json.loads(text)
                names.update(row[c] for c in t.files if row.get(c))
    return sorted(names)


def copy_files(
    source: Agency,
    target: Agency,
    tables: list[move.Table],
    only: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """Copy every stored file the moved rows name (same name in the target's storage)."""
    names = stored_files(endpoint(source), tables, only)
    copied = missing = 0
    for name in names:
        with agency_context(source):
            if not default_storage.exists(name):
                missing += 1
                continue
            size = default_storage.size(name)
        with agency_context(target):
            if default_storage.exists(name):
                if default_storage.size(name) == size:
                    continue
                default_storage.delete(name)  # a copy cut short by a crash
        with tempfile.SpooledTemporaryFile(max_size=1 << 22) as buffer:
            with agency_context(source), default_storage.open(name, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 16), b""):
                    buffer.write(chunk)
            buffer.seek(0)
            with agency_context(target):
                saved = default_storage.save(name, File(buffer))
        if saved != name:
            raise RuntimeError(f"file {name} was stored as {saved}")
        copied += 1
    return {"files": len(names), "copied": copied, "missing": missing}


def _aliases(merge: Merge, source: Agency, tables: list[move.Table]) -> dict[str, Any]:
    return write_aliases(source, merge.target, tables, _map(merge, source))


def write_aliases(
    source: Agency,
    target: Agency,
    tables: list[move.Table],
    mapping: move.MoveMap,
    only: list[Any] | None = None,
) -> dict[str, Any]:
    """Every moved dossier keeps its old code as an alias (renamed or not)."""
    s_end, t_end = endpoint(source), endpoint(target)
    table = {t.name: t for t in tables}[move.DOSSIER_TABLE]
    written = 0
    for page in move.iter_rows(s_end, table, only):
        rows = []
        for _pk, text in page:
            row = json.loads(text)
            rows.append((row["code"], source.slug, int(row["id"]) + mapping.offsets[table.name]))
        with t_end.atomic():
            written += move.aliases_write(t_end, rows)
    return {"aliases": written}


def _staff(merge: Merge, source: Agency) -> dict[str, Any]:
    """The source's staff join the target with their roles; who is already there keeps theirs."""
    added = kept = 0
    with transaction.atomic():
        for m in Membership.objects.filter(agency=source, is_active=True):
            _membership, created = Membership.objects.get_or_create(
                user_id=m.user_id, agency=merge.target, defaults={"roles": m.roles}
            )
            if created:
                added += 1
            else:
                kept += 1
    return {"added": added, "kept": kept}


def _billing(merge: Merge, source: Agency) -> dict[str, Any]:
    """The source's subscription ends pro-rata on the date; its usage from then is C's."""
    return agency_merged_billing(
        source=source,
        target=merge.target,
        effective_on=merge.effective_on,
        actor_email=merge.actor_email,
    )


def _history(merge: Merge, source: Agency) -> dict[str, Any]:
    """Statistics from the date roll up into C (before it they stay the old unit's), and the
    national portal is told, in one transaction."""
    with transaction.atomic():
        moved = stats_merge(source=source, target=merge.target, effective_on=merge.effective_on)
        row = sync_agency_merged(
            merge_id=merge.pk, source=source, target=merge.target, effective_on=merge.effective_on
        )
    return {**moved, "national_portal_outbox": row.key}


def _close(merge: Merge, source: Agency, target: Agency) -> dict[str, Any]:
    with transaction.atomic():
        agency_mark_merged(agency=source, into=target, actor_email=merge.actor_email)
        closed = Membership.objects.filter(agency=source, is_active=True).update(is_active=False)
    return {"memberships_closed": closed}


# -- verification ---------------------------------------------------------------------------


def merge_verify(merge: Merge) -> dict[str, Any]:
    """Row counts and sha256 per table: each source's rows (as rewritten) against the target's.

    Stored on the merge and returned; ``ok`` is false when any table differs.
    """
    merge = Merge.objects.select_related("target").get(pk=merge.pk)
    t_end = endpoint(merge.target)
    result: dict[str, Any] = {"ok": True, "sources": {}, "checked_at": timezone.now().isoformat()}
    for ms in merge.sources.select_related("agency"):
        source = ms.agency
        if source.slug not in merge.maps:
            result["ok"] = False
            result["sources"][source.slug] = {"error": "not copied yet"}
            continue
        mapping = move.MoveMap.from_json(merge.maps[source.slug])
        tables, same = compare_tables(endpoint(source), t_end, mapping)
        result["ok"] = result["ok"] and same
        result["sources"][source.slug] = tables
    Merge.objects.filter(pk=merge.pk).update(verification=result)
    return {"ok": result["ok"]}


def compare_tables(
    s_end: move.Endpoint,
    t_end: move.Endpoint,
    mapping: move.MoveMap,
    only: dict[str, list[Any]] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Per moved table: rows and sha256 of the source's rows as rewritten (``only``: these)
    against the target's rows with the same primary keys; and whether all match."""
    tables: dict[str, Any] = {}
    ok = True
    for table in move.moved_tables():
        rows_only = None if only is None else only.get(table.name, [])
        count, digest, pks = move.source_digest(s_end, table, mapping, rows_only)
        t_count, t_digest = move.target_digest(t_end, table, pks)
        same = count == t_count and digest == t_digest
        tables[table.name] = {
            "source_rows": count,
            "target_rows": t_count,
            "source_sha256": digest,
            "target_sha256": t_digest,
            "ok": same,
        }
        ok = ok and same
    return tables, ok
