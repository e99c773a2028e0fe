"""Importing the national catalog: validate every row first, then write all or nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import CatalogProcedure, CatalogVersion, Sector
from catalog.spec import ProcedureSpec, SpecError, parse_spec
from core import inputs
from tenants.models import AgencyKind


class CatalogImportError(ValueError):
    """The file was refused; ``errors`` says where and why. Nothing was imported."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} error(s): " + "; ".join(errors[:5]))
        self.errors = errors


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def content_hash(spec: ProcedureSpec) -> str:
    canonical = json.dumps(spec.to_json(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_catalog(raw: bytes | str | dict[str, Any]) -> list[ProcedureSpec]:
    """Parse a catalog file (format of procedures.sample.json); every error, row by row."""
    try:
        # Text in NFC, NUL characters refused: the one rule for all input (core.inputs).
        data = (
            inputs.loads(raw, where="")
            if isinstance(raw, bytes | str)
            else inputs.clean_json(raw, where="")
        )
    except inputs.NulCharacter as exc:
        raise CatalogImportError([f"{exc.shown_name}: contains a NUL character"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogImportError([f"not valid JSON: {exc}"]) from exc
    rows = data.get("procedures") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise CatalogImportError(['the file needs a non-empty "procedures" list'])
    errors: list[str] = []
    specs: list[ProcedureSpec] = []
    seen: dict[str, int] = {}
    kinds = tuple(AgencyKind.values)
    for index, row in enumerate(rows):
        label = f"row {index + 1}"
        if isinstance(row, dict) and isinstance(row.get("code"), str):
            label += f" ({row['code']})"
        try:
            spec = parse_spec(row, path=label, agency_kinds=kinds)
        except SpecError as exc:
            errors.extend(exc.errors)
            continue
        if spec.code in seen:
            errors.append(f"{label}: code {spec.code} already used in row {seen[spec.code]}")
        seen[spec.code] = index + 1
        specs.append(spec)
    if errors:
        raise CatalogImportError(errors)
    return specs


def catalog_import(
    *, raw: bytes | str | dict[str, Any], effective_from: dt.date | None = None
) -> ImportReport:
    """Import or update the catalog. A procedure whose content changed gets a new version;
    an unchanged one is left alone, so re-importing the same file changes nothing."""
    specs = parse_catalog(raw)
    effective = effective_from or timezone.localdate()
    report = ImportReport()
    with transaction.atomic():
        sectors = {s.name: s for s in Sector.objects.select_for_update()}
        existing = {
            p.code: p
            for p in CatalogProcedure.objects.select_for_update().filter(
                code__in=[s.code for s in specs]
            )
        }
        for spec in specs:
            sector = sectors.get(spec.sector)
            if sector is None:
                sector = sectors[spec.sector] = Sector.objects.create(name=spec.sector)
            digest = content_hash(spec)
            procedure = existing.get(spec.code)
            if procedure is None:
                procedure = CatalogProcedure.objects.create(
                    code=spec.code,
                    name=spec.name,
                    name_en=spec.name_en,
                    sector=sector,
                    agency_kinds=list(spec.agency_kinds),
                )
                report.created.append(spec.code)
            else:
                latest = procedure.versions.order_by("-number").first()
                if latest is not None and latest.content_hash == digest:
                    report.unchanged.append(spec.code)
                    continue
                report.new_versions.append(spec.code)
            procedure.latest_version += 1
            procedure.name, procedure.name_en = spec.name, spec.name_en
            procedure.sector = sector
            procedure.agency_kinds = list(spec.agency_kinds)
            procedure.save()
            CatalogVersion.objects.create(
                procedure=procedure,
                number=procedure.latest_version,
                effective_from=effective,
                content=spec.to_json(),
                content_hash=digest,
            )
    return report
