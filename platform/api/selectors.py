"""Read-side queries of the API, in the active agency's schema."""

from __future__ import annotations

from typing import Any

from catalog.spec import NUMBER_TYPES
from dossiers.models import Dossier
from procedures.models import AgencyProcedure


def procedure_by_code(code: str) -> AgencyProcedure | None:
    return (
        AgencyProcedure.objects.select_related("published_version")
        .filter(code=code.strip()[:40])
        .first()
    )


def procedure_ref_by_code(code: str) -> AgencyProcedure | None:
    """Just enough of a procedure to hand to ``dossier_submit`` (which loads the rest)."""
    return (
        AgencyProcedure.objects.only("pk", "code", "name", "is_published", "published_version_id")
        .filter(code=code.strip()[:40])
        .first()
    )


def dossier_by_code(code: str) -> Dossier | None:
    return (
        Dossier.objects.select_related("procedure")
        .prefetch_related("events", "documents")
        .filter(code=code.strip().upper()[:40])
        .first()
    )


def procedure_out(procedure: AgencyProcedure, *, detail: bool = False) -> dict[str, Any]:
    """A published procedure as its published version describes it."""
    version = procedure.published_version
    assert version is not None
    spec = version.spec
    out: dict[str, Any] = {
        "code": procedure.code,
        "name": spec.name,
        "name_en": spec.name_en,
        "sector": spec.sector,
        "online_mode": spec.online_mode,
        "accepts_online": version.online_submission and spec.online_mode != "none",
        "fee": spec.fee,
        "fee_unit": spec.fee_unit,
        "processing_days": spec.processing_days,
        "cutoff_hour": spec.cutoff_hour,
        "result": spec.result,
        "version": version.number,
        "components": [
            {"position": i, "name": c.name, "required": c.required, "max_files": c.max_files}
            for i, c in enumerate(spec.components)
        ],
        "fields": [
            {
                "key": f.key,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "choices": list(f.choices),
                "pattern": f.pattern,
                # The bounds the answer is checked against (numbers: 0 unless declared).
                "min_value": (f.min_value if f.min_value is not None else 0)
                if f.type in NUMBER_TYPES
                else None,
                "max_value": f.max_value,
            }
            for f in spec.fields
        ],
    }
    if detail:
        out["steps"] = [
            {"name": s.name, "role": s.role, "days": s.days, "transfer": s.transfer}
            for s in spec.steps
        ]
        out["legal_basis"] = spec.legal_basis
        out["conditions"] = spec.conditions
    return out
