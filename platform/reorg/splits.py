"""Splitting an agency: selected procedures, their dossiers and chosen staff move to another
agency (an existing one, or one created for the split), effective on a date; the rest stays.

The same machinery as a merge (``reorg.services``): ``split_plan`` is the dry run (what moves,
what clashes, what blocks), ``split_create`` records it, ``split_run`` executes idempotent
steps recorded in :class:`~reorg.models.SplitStep`, so a run killed at any point (kill -9) is
finished by running it again. Rows move through ``lifecycle.move`` from the source's
endpoint to the target's, with ids reserved in the target.

What moves is fixed once the source is frozen (suspended, as a merge's sources are): the
procedures named and every row hanging off them (their versions and configuration, their
dossiers with documents, events, hand-over trail, forms, fees, ratings and results, their
drafts). It is stored on the split, so every later step, and the verification afterwards,
reads the same rows.

The source keeps its copy of the moved dossiers: their history there is append-only (and
its exit packs stay true). They end there with the status ``moved``, an event naming the
agency that has them now, and a :class:`~dossiers.models.DossierMoved` row: the code and
secret of an old receipt, looked up on the old host, are sent on (301) to the new agency,
where the dossier keeps its code (an alias when the code had to change). The procedures
that moved are unpublished in the source. The source is active again at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from lifecycle import move
from nationalsync.services import sync_agency_split
from portal.tracking_cache import tracking_pages_forget
from reorg import services
from reorg.models import MergeSource, MergeStatus, Split, SplitStep
from reports.services import stats_merge
from tenants import schemas
from tenants.context import agency_context
from tenants.models import Agency, AgencyStatus
from tenants.services import agency_event_record, agency_set_status

logger = logging.getLogger(__name__)

endpoint = services.endpoint
_bad = services._bad


# -- the dry run ----------------------------------------------------------------------------


def _validate(
    source: Agency,
    target: Agency | None,
    procedures: list[str],
    staff: list[str],
    effective_on: Any,
) -> tuple[dict[str, dict[str, Any]], list[Membership]]:
    if not isinstance(effective_on, dt.date):
        raise _bad(_("Give the date the split takes effect on."), "required")
    source.refresh_from_db()
    if source.status not in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
        raise _bad(
            _("“%(name)s” cannot be split: it is %(status)s."),
            "status",
            name=source.name,
            status=source.get_status_display(),
        )
    if not schemas.schema_exists(source.schema_name):
        raise _bad(_("“%(name)s” has no schema."), "schema", name=source.name)
    involved = [source] + ([target] if target is not None else [])
    if MergeSource.objects.filter(agency__in=involved).exists():
        raise _bad(_("An agency of this split is part of a merge."), "taken")
    busy = Split.objects.exclude(status=MergeStatus.FINISHED).filter(
        source__in=involved
    ) | Split.objects.exclude(status=MergeStatus.FINISHED).filter(target__in=involved)
    if busy.exists():
        raise _bad(_("An agency of this split is in another split that has not finished."), "busy")
    if target is not None:
        target.refresh_from_db()
        if target.pk == source.pk:
            raise _bad(_("An agency cannot be split into itself."), "self")
        if target.status != AgencyStatus.ACTIVE:
            raise _bad(_("The target agency “%(name)s” is not active."), "status", name=target.name)
        if services._fingerprint(source) != services._fingerprint(target):
            raise _bad(
                _("“%(name)s” and the target are at different schema versions: migrate both."),
                "schema",
                name=source.name,
            )
    codes = [c.strip() for c in procedures if c.strip()]
    if not codes:
        raise _bad(_("Choose at least one procedure to move."), "required")
    adopted = move.procedures_of(endpoint(source))
    unknown = [c for c in codes if c not in adopted]
    if unknown:
        raise _bad(
            _("“%(name)s” has not adopted: %(codes)s."),
            "unknown",
            name=source.name,
            codes=", ".join(unknown),
        )
    members = {
        m.user.email.lower(): m
        for m in Membership.objects.filter(agency=source, is_active=True).select_related("user")
    }
    emails = [e.strip().lower() for e in staff if e.strip()]
    strangers = [e for e in emails if e not in members]
    if strangers:
        raise _bad(
            _("Not staff of “%(name)s”: %(emails)s."),
            "unknown",
            name=source.name,
            emails=", ".join(strangers),
        )
    return {c: adopted[c] for c in codes}, [members[e] for e in emails]


def split_plan(
    *,
    source: Agency,
    target: Agency | None,
    procedures: list[str],
    effective_on: dt.date,
    staff: list[str] | None = None,
    choices: dict[str, str] | None = None,
    new_target: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What a split would move and what clashes; raises ValidationError on impossible input.

    ``target`` None with ``new_target`` ({slug, name, code}): an agency created for the split.
    """
    choices = dict(choices or {})
    if target is None:
        services.new_agency_check(new_target or {})
    moving, members = _validate(source, target, procedures, staff or [], effective_on)
    s_end = endpoint(source)
    tables = move.moved_tables()
    selected, mixed = move.selection(s_end, tables, [int(p["id"]) for p in moving.values()])
    dossier_table = move.table_map()[move.DOSSIER_TABLE]
    by_status: dict[str, int] = {}
    codes: set[str] = set()
    holders: set[int] = set()
    for page in move.iter_rows(s_end, dossier_table, selected.get(move.DOSSIER_TABLE, [])):
        for _pk, text in page:
            row = json.loads(text)
            by_status[row["status"]] = by_status.get(row["status"], 0) + 1
            codes.add(row["code"])
    process = move.table_map()["desk_dossierprocess"]
    for page in move.iter_rows(s_end, process, selected.get("desk_dossierprocess", [])):
        for _pk, text in page:
            assignee = json.loads(text).get("assignee_id")
            if assignee is not None:
                holders.add(int(assignee))
    moving_users = {m.user_id for m in members}
    held_by_staying = sorted(
        Membership.objects.filter(agency=source, user_id__in=holders - moving_users)
        .select_related("user")
        .values_list("user__email", flat=True)
    )
    target_procedures = move.procedures_of(endpoint(target)) if target is not None else {}
    target_codes = (
        move.column_values(endpoint(target), move.DOSSIER_TABLE, "code") if target else set()
    )
    clashing = []
    allowed = {source.slug, target.slug if target is not None else ""}
    for code, settings in sorted(moving.items()):
        if code in target_procedures:
            other = target_procedures[code]
            clashing.append(
                {
                    "code": code,
                    "target": services._plain(other),
                    "sources": {source.slug: services._plain(settings)},
                    "differs": sorted(
                        k for k in move.PROCEDURE_SETTINGS if settings[k] != other[k]
                    ),
                    "winner": choices.get(code, target.slug if target else source.slug),
                }
            )
    clash_codes = {c["code"] for c in clashing}
    for code, slug in choices.items():
        if code not in clash_codes:
            raise _bad(
                _("Procedure %(code)s does not clash: there is nothing to choose."),
                "choice",
                code=code,
            )
        if slug not in allowed:
            raise _bad(
                _("For procedure %(code)s choose the target or a source that has it."),
                "choice",
                code=code,
            )
    stays = move.table_count(s_end, move.DOSSIER_TABLE) - len(selected.get(move.DOSSIER_TABLE, []))
    return {
        "source": {"slug": source.slug, "name": source.name},
        "target": (
            {"slug": target.slug, "name": target.name, "new": False}
            if target is not None
            else {**(new_target or {}), "new": True}
        ),
        "effective_on": effective_on.isoformat(),
        "procedures": [{"code": c, "name": p["name"]} for c, p in sorted(moving.items())],
        "rows": {t: len(ids) for t, ids in selected.items()},
        "dossiers": by_status,
        "dossiers_staying": stays,
        "files": len(services.stored_files(s_end, tables, selected)),
        "staff": [{"email": m.user.email, "roles": sorted(m.roles)} for m in members],
        "clashes": {
            "procedures": clashing,
            "dossier_codes": [
                {"code": c, "source": source.slug} for c in sorted(codes & target_codes)
            ],
            "mixed_rows": mixed,
            "held_by_staff_staying": held_by_staying,
        },
    }


def split_create(
    *,
    source: Agency,
    target: Agency | None,
    procedures: list[str],
    effective_on: dt.date,
    staff: list[str] | None = None,
    choices: dict[str, str] | None = None,
    new_target: dict[str, str] | None = None,
    actor_email: str = "",
) -> Split:
    """Record a split (status planned) from a plan with nothing blocking; a new target agency
    is registered (provisioning; the run builds its schema). Nothing moves yet."""
    plan = split_plan(
        source=source,
        target=target,
        procedures=procedures,
        effective_on=effective_on,
        staff=staff,
        choices=choices,
        new_target=new_target,
    )
    if plan["clashes"]["mixed_rows"]:
        raise _bad(
            _("Some rows belong both to a procedure that moves and to one that stays: %(t)s."),
            "mixed",
            t=", ".join(plan["clashes"]["mixed_rows"]),
        )
    with transaction.atomic():
        if target is None:
            target = services.new_agency_create(
                new_target or {}, like=source, actor_email=actor_email
            )
        split = Split.objects.create(
            source=source,
            target=target,
            effective_on=effective_on,
            procedures=[p["code"] for p in plan["procedures"]],
            staff=[s["email"] for s in plan["staff"]],
            plan=plan,
            choices=dict(choices or {}),
            actor_email=actor_email,
        )
        for agency in (source, target):
            agency_event_record(
                agency,
                "split_planned",
                actor_email=actor_email,
                split=split.pk,
                source=source.slug,
                target=target.slug,
                procedures=split.procedures,
                effective_on=effective_on.isoformat(),
            )
    return split


# -- the run --------------------------------------------------------------------------------


def split_steps(split: Split) -> list[tuple[str, Any]]:
    tables = move.moved_tables()
    steps: list[tuple[str, Any]] = [
        ("target", lambda: services.target_provision(split.target_id)),
        ("freeze", lambda: _freeze(split)),
        ("select", lambda: _select(split, tables)),
        ("reserve", lambda: _reserve(split, tables)),
    ]
    done: set[str] = set()
    for table in tables:
        deferred = tuple(move.deferred_links(table, done))
        steps.append((f"copy:{table.name}", services._bind(_copy, split, table, deferred)))
        done.add(table.name)
    steps += [
        ("relink", lambda: services.relink(*_ends(split), tables, _map(split), split.selection)),
        ("procedures", lambda: services.take_over(split.source, split.target, _map(split))),
        (
            "files",
            lambda: services.copy_files(split.source, split.target, tables, split.selection),
        ),
        ("aliases", lambda: _aliases(split, tables)),
        ("staff", lambda: _staff(split)),
        ("history", lambda: _history(split)),
        ("verify", lambda: _verify_or_stop(split)),
        ("leave", lambda: _leave(split)),
        ("thaw", lambda: _thaw(split)),
    ]
    return steps


def split_run(split: Split, *, progress: services.Progress | None = None) -> Split:
    """Run (or finish) a split; one reorganisation at a time; a finished one is a no-op."""
    with services.reorg_lock():
        split = Split.objects.select_related("source", "target").get(pk=split.pk)
        if split.status == MergeStatus.FINISHED:
            return split
        services.run_recorded(split, split_steps(split), SplitStep, progress)
        for agency in (split.source, split.target):
            agency_event_record(
                agency, "split_finished", actor_email=split.actor_email, split=split.pk
            )
        if progress:
            progress(100, "finished")
        split.refresh_from_db()
        return split


def _ends(split: Split) -> tuple[move.Endpoint, move.Endpoint]:
    return endpoint(split.source), endpoint(split.target)


def _map(split: Split) -> move.MoveMap:
    split.refresh_from_db(fields=["map", "selection"])
    return move.MoveMap.from_json(split.map)


def _freeze(split: Split) -> dict[str, Any]:
    """The source takes no new work while its rows are chosen and copied (its pages, and
    tracking, still answer); it is active again at the end if it was before."""
    source = Agency.objects.get(pk=split.source_id)
    if source.status != AgencyStatus.ACTIVE:
        return {"suspended": False}
    agency_set_status(
        agency=source,
        status=AgencyStatus.SUSPENDED,
        actor_email=split.actor_email,
        reason=f"split {split.pk}",
    )
    return {"suspended": True}


def _select(split: Split, tables: list[move.Table]) -> dict[str, Any]:
    split.refresh_from_db(fields=["selection"])
    if not split.selection:
        s_end = endpoint(split.source)
        adopted = move.procedures_of(s_end)
        ids = [int(adopted[c]["id"]) for c in split.procedures]
        selected, mixed = move.selection(s_end, tables, ids)
        if mixed:
            raise RuntimeError(f"rows of moving and staying procedures: {mixed}")
        Split.objects.filter(pk=split.pk).update(selection=selected)
        split.selection = selected
    return {"rows": {t: len(v) for t, v in split.selection.items()}}


def _reserve(split: Split, tables: list[move.Table]) -> dict[str, Any]:
    split.refresh_from_db(fields=["map", "selection"])
    if not split.map:
        mapping = services.move_map(
            source=split.source,
            target=Agency.objects.get(pk=split.target_id),
            tables=tables,
            choices=split.choices,
            only=split.selection,
        )
        Split.objects.filter(pk=split.pk).update(map=mapping.as_json())
        split.map = mapping.as_json()
    return {"offsets": split.map["offsets"], "renamed_codes": len(split.map["codes"])}


def _copy(split: Split, table: move.Table, deferred: tuple[str, ...]) -> dict[str, Any]:
    mapping = _map(split)
    only = split.selection.get(table.name, [])
    return services.copy_table(*_ends(split), table, mapping, deferred, only)


def _aliases(split: Split, tables: list[move.Table]) -> dict[str, Any]:
    return services.write_aliases(
        split.source,
        split.target,
        tables,
        _map(split),
        split.selection.get(move.DOSSIER_TABLE, []),
    )


def _staff(split: Split) -> dict[str, Any]:
    """The chosen staff join the target with their roles and leave the source."""
    moved = kept = 0
    with transaction.atomic():
        for m in Membership.objects.filter(
            agency=split.source, user__email__in=split.staff
        ).select_related("user"):
            _membership, created = Membership.objects.get_or_create(
                user_id=m.user_id, agency=split.target, defaults={"roles": m.roles}
            )
            moved += created
            kept += not created
            if m.is_active:
                m.is_active = False
                m.save(update_fields=["is_active"])
    return {"added": moved, "kept": kept}


def _history(split: Split) -> dict[str, Any]:
    """Figures of the moved procedures from the date are the target's (before it they stay
    the source's), and the national portal is told, in one transaction."""
    with transaction.atomic():
        moved = stats_merge(
            source=split.source,
            target=split.target,
            effective_on=split.effective_on,
            procedure_codes=list(split.procedures),
        )
        row = sync_agency_split(
            split_id=split.pk,
            source=split.source,
            target=split.target,
            effective_on=split.effective_on,
            procedures=list(split.procedures),
        )
    return {**moved, "national_portal_outbox": row.key}


def _verify_or_stop(split: Split) -> dict[str, Any]:
    result = split_verify(split)
    if not result["ok"]:
        raise RuntimeError("verification found differences: the source is left as it was")
    return result


def _leave(split: Split) -> dict[str, Any]:
    """The source's copies end as ``moved`` (after the verification: the checksums were of
    the rows as they were); its procedures that moved are unpublished."""
    s_end = endpoint(split.source)
    ids = [int(i) for i in split.selection.get(move.DOSSIER_TABLE, [])]
    done = move.moved_mark(
        s_end, ids, split.target.slug, _("Moved to %(name)s") % {"name": split.target.name}
    )
    with agency_context(split.source):
        from dossiers.models import Dossier
        from procedures.models import AgencyProcedure

        AgencyProcedure.objects.filter(code__in=split.procedures).update(is_published=False)
        for code, secret in Dossier.objects.filter(pk__in=ids).values_list("code", "lookup_secret"):
            tracking_pages_forget(code=code, secret=secret, schema=split.source.schema_name)
    return done


def _thaw(split: Split) -> dict[str, Any]:
    frozen = SplitStep.objects.get(split=split, name="freeze").detail.get("suspended")
    source = Agency.objects.get(pk=split.source_id)
    if frozen and source.status == AgencyStatus.SUSPENDED:
        agency_set_status(
            agency=source,
            status=AgencyStatus.ACTIVE,
            actor_email=split.actor_email,
            reason=f"split {split.pk} finished",
        )
        return {"active_again": True}
    return {}


# -- verification ---------------------------------------------------------------------------


def split_verify(split: Split) -> dict[str, Any]:
    """Row counts and sha256 per table of the moved rows, source (as rewritten) against the
    target. Once the source's copies have ended as ``moved``, the target is checked against
    the digests taken before (the rows' ids in the target follow from the stored map)."""
    split = Split.objects.select_related("source", "target").get(pk=split.pk)
    if not split.map:
        result: dict[str, Any] = {"ok": False, "error": "not copied yet"}
        Split.objects.filter(pk=split.pk).update(verification=result)
        return {"ok": False}
    mapping = move.MoveMap.from_json(split.map)
    left = SplitStep.objects.filter(split=split, name="leave").exists()
    t_end = endpoint(split.target)
    if not left:
        tables, ok = services.compare_tables(
            endpoint(split.source), t_end, mapping, split.selection
        )
    else:
        tables, ok = {}, True
        for table in move.moved_tables():
            before = split.verification.get("tables", {}).get(table.name)
            if before is None:
                tables[table.name] = {"error": "no earlier digest"}
                ok = False
                continue
            pks = _target_pks(table, split.selection.get(table.name, []), mapping)
            t_count, t_digest = move.target_digest(t_end, table, pks)
            same = t_count == before["source_rows"] and t_digest == before["source_sha256"]
            tables[table.name] = {**before, "target_rows": t_count, "target_sha256": t_digest}
            tables[table.name]["ok"] = same
            ok = ok and same
    result = {"ok": ok, "tables": tables, "checked_at": timezone.now().isoformat()}
    Split.objects.filter(pk=split.pk).update(verification=result)
    return {"ok": ok}


def _target_pks(table: move.Table, pks: list[Any], mapping: move.MoveMap) -> list[Any]:
    if not table.integer_pk:
        return pks
    offset = mapping.offsets.get(table.links.get(table.pk, table.name), 0)
    if table.pk not in table.links:
        offset = mapping.offsets.get(table.name, 0)
    return [int(p) + offset for p in pks]
