"""Adopting, configuring and publishing procedures in the active agency's schema.

Every change is recorded in the agency's audit trail. The draft configuration
can be edited freely; ``procedure_publish`` validates it as a whole and freezes
it into a new ``ProcedureVersion``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from catalog.models import CatalogProcedure, CatalogVersion
from catalog.selectors import catalog_for_kind
from catalog.spec import ProcedureSpec, SpecError, parse_spec
from portal.pagecache import portal_pages_changed
from procedures.models import (
    AgencyProcedure,
    ProcedureComponent,
    ProcedureField,
    ProcedureStep,
    ProcedureVersion,
)
from tenants.models import Agency


def effective_catalog_version(procedure: CatalogProcedure) -> CatalogVersion:
    """The newest catalog version already in effect today (or the first one)."""
    today = timezone.localdate()
    versions = list(procedure.versions.order_by("-number"))
    for version in versions:
        if version.effective_from <= today:
            return version
    return versions[-1]


def _write_rows(
    procedure: AgencyProcedure, spec: ProcedureSpec, *, keep_extra_fields: bool
) -> None:
    extra = list(procedure.fields.filter(from_catalog=False)) if keep_extra_fields else []
    procedure.components.all().delete()
    procedure.fields.all().delete()
    procedure.steps.all().delete()
    ProcedureComponent.objects.bulk_create(
        ProcedureComponent(
            procedure=procedure,
            position=i,
            name=c.name,
            required=c.required,
            max_files=c.max_files,
            from_catalog=True,
            required_by_catalog=c.required,
        )
        for i, c in enumerate(spec.components)
    )
    catalog_keys = {f.key for f in spec.fields}
    rows = [
        ProcedureField(
            procedure=procedure,
            position=i,
            key=f.key,
            label=f.label,
            type=f.type,
            required=f.required,
            choices=list(f.choices),
            pattern=f.pattern,
            from_catalog=True,
        )
        for i, f in enumerate(spec.fields)
    ]
    for f in extra:
        if f.key not in catalog_keys:
            f.pk, f.position = None, len(rows)
            rows.append(f)
    ProcedureField.objects.bulk_create(rows)
    ProcedureStep.objects.bulk_create(
        ProcedureStep(
            procedure=procedure,
            position=i,
            name=s.name,
            role=s.role,
            days=s.days,
            transfer=s.transfer,
        )
        for i, s in enumerate(spec.steps)
    )


def procedure_adopt(*, catalog_procedure: CatalogProcedure, actor: Any = None) -> AgencyProcedure:
    """Take a catalog procedure into the agency, configured as the catalog says (unpublished)."""
    with transaction.atomic():
        existing = AgencyProcedure.objects.filter(code=catalog_procedure.code).first()
        if existing is not None:
            return existing
        version = effective_catalog_version(catalog_procedure)
        spec = version.spec
        procedure = AgencyProcedure.objects.create(
            catalog_procedure_id=catalog_procedure.pk,
            code=spec.code,
            catalog_version=version.number,
            name=spec.name,
            name_en=spec.name_en,
            sector=spec.sector,
            online_mode=spec.online_mode,
            fee=spec.fee,
            fee_unit=spec.fee_unit,
            processing_days=spec.processing_days,
            cutoff_hour=spec.cutoff_hour,
            online_submission=spec.online_mode != "none",
            result=spec.result,
            legal_basis=spec.legal_basis,
            conditions=spec.conditions,
        )
        _write_rows(procedure, spec, keep_extra_fields=False)
        audit_record(
            action="procedure.adopted",
            actor=actor,
            target=spec.code,
            catalog_version=version.number,
        )
    return procedure


def procedures_adopt_for_kind(
    *, agency: Agency, actor: Any = None, publish: bool = False
) -> list[AgencyProcedure]:
    """Adopt (and optionally publish) every catalog procedure for the agency's kind."""
    adopted = []
    for catalog_procedure in catalog_for_kind(agency.kind).prefetch_related("versions"):
        procedure = procedure_adopt(catalog_procedure=catalog_procedure, actor=actor)
        if publish and not procedure.is_published:
            procedure_publish(procedure=procedure, actor=actor)
        adopted.append(procedure)
    return adopted


# -- Configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentInput:
    name: str
    required: bool
    max_files: int


@dataclass(frozen=True)
class FieldInput:
    key: str
    label: str
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""


@dataclass(frozen=True)
class StepInput:
    name: str
    role: str
    days: int
    transfer: bool = False


def procedure_spec(procedure: AgencyProcedure) -> ProcedureSpec:
    """The configuration as a spec (validated): what would be published now."""
    data = {
        "code": procedure.code,
        "name": procedure.name,
        "name_en": procedure.name_en,
        "sector": procedure.sector,
        "online_mode": procedure.online_mode,
        "processing_days": procedure.processing_days,
        "cutoff_hour": procedure.cutoff_hour,
        "fee": procedure.fee,
        "fee_unit": procedure.fee_unit,
        "result": procedure.result,
        "legal_basis": procedure.legal_basis,
        "conditions": procedure.conditions,
        "components": [
            {"name": c.name, "required": c.required, "max_files": c.max_files}
            for c in procedure.components.all()
        ],
        "fields": [
            {
                "key": f.key,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "choices": list(f.choices),
                "pattern": f.pattern,
            }
            for f in procedure.fields.all()
        ],
        "steps": [
            {"name": s.name, "role": s.role, "days": s.days, "transfer": s.transfer}
            for s in procedure.steps.all()
        ],
    }
    return parse_spec(data, path=procedure.code)


def procedure_configure(
    *,
    procedure: AgencyProcedure,
    fee: int,
    processing_days: int,
    cutoff_hour: int,
    online_submission: bool,
    online_payment: bool,
    components: Sequence[ComponentInput],
    extra_fields: Sequence[FieldInput],
    steps: Sequence[StepInput],
    actor: Any = None,
) -> AgencyProcedure:
    """Save the agency's settings for a procedure (a draft until published).

    The law's limits hold: a component the catalog requires stays required, the
    processing time cannot exceed the catalog's, and the steps must fit in it.
    """
    errors: list[str] = []
    catalog = CatalogVersion.objects.get(
        procedure_id=procedure.catalog_procedure_id, number=procedure.catalog_version
    ).spec
    if processing_days > catalog.processing_days:
        errors.append(
            _("The processing time cannot exceed the legal %(days)d working days.")
            % {"days": catalog.processing_days}
        )
    if fee < 0:
        errors.append(_("The fee cannot be negative."))
    if not 0 <= cutoff_hour <= 24:
        errors.append(_("The cut-off hour must be between 0 and 24."))
    if online_submission and procedure.online_mode == "none":
        errors.append(_("This procedure cannot be submitted online by law."))
    if online_payment and not online_submission:
        errors.append(_("Online payment needs online submission."))
    existing = list(procedure.components.all())
    if len(components) != len(existing):
        errors.append(_("The list of dossier components does not match the procedure."))
    else:
        for row, new in zip(existing, components, strict=True):
            if row.required_by_catalog and not new.required:
                errors.append(
                    _("“%(name)s” is required by law and cannot be made optional.")
                    % {"name": row.name}
                )
            if not 1 <= new.max_files <= 20:
                errors.append(_("A component allows between 1 and 20 files."))
    if not steps:
        errors.append(_("The internal process needs at least one step."))
    if sum(s.days for s in steps) > processing_days:
        errors.append(
            _("The steps take %(steps)d working days, more than the processing time (%(days)d).")
            % {"steps": sum(s.days for s in steps), "days": processing_days}
        )
    catalog_keys = {f.key for f in catalog.fields}
    for f in extra_fields:
        if f.key in catalog_keys:
            errors.append(_("The field key “%(key)s” is already used.") % {"key": f.key})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        procedure.fee = fee
        procedure.processing_days = processing_days
        procedure.cutoff_hour = cutoff_hour
        procedure.online_submission = online_submission
        procedure.online_payment = online_payment
        procedure.has_unpublished_changes = True
        procedure.save()
        for row, new in zip(existing, components, strict=True):
            row.required, row.max_files = new.required, new.max_files
        ProcedureComponent.objects.bulk_update(existing, ["required", "max_files"])
        procedure.fields.filter(from_catalog=False).delete()
        start = procedure.fields.count()
        ProcedureField.objects.bulk_create(
            ProcedureField(
                procedure=procedure,
                position=start + i,
                key=f.key,
                label=f.label,
                type=f.type,
                required=f.required,
                choices=list(f.choices),
                pattern=f.pattern,
                from_catalog=False,
            )
            for i, f in enumerate(extra_fields)
        )
        procedure.steps.all().delete()
        ProcedureStep.objects.bulk_create(
            ProcedureStep(
                procedure=procedure,
                position=i,
                name=s.name,
                role=s.role,
                days=s.days,
                transfer=s.transfer,
            )
            for i, s in enumerate(steps)
        )
        try:
            procedure_spec(procedure)  # the whole must still be a valid procedure
        except SpecError as exc:
            raise ValidationError(exc.errors) from exc
        audit_record(
            action="procedure.configured",
            actor=actor,
            target=procedure.code,
            fee=fee,
            processing_days=processing_days,
        )
    return procedure


def _spec_digest(spec: ProcedureSpec, online_submission: bool, online_payment: bool) -> str:
    blob = json.dumps([spec.to_json(), online_submission, online_payment], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def procedure_publish(*, procedure: AgencyProcedure, actor: Any = None) -> ProcedureVersion:
    """Freeze the configuration into a new version (if it changed) and show it on the portal."""
    with transaction.atomic():
        procedure = AgencyProcedure.objects.select_for_update().get(pk=procedure.pk)
        try:
            spec = procedure_spec(procedure)
        except SpecError as exc:
            raise ValidationError(exc.errors) from exc
        current = procedure.published_version
        digest = _spec_digest(spec, procedure.online_submission, procedure.online_payment)
        if (
            current is None
            or _spec_digest(current.spec, current.online_submission, current.online_payment)
            != digest
        ):
            number = (current.number if current else 0) + 1
            current = ProcedureVersion.objects.create(
                procedure=procedure,
                number=number,
                catalog_version=procedure.catalog_version,
                spec_json=spec.to_json(),
                online_submission=procedure.online_submission,
                online_payment=procedure.online_payment,
                published_by_id=getattr(actor, "pk", None),
            )
        procedure.published_version = current
        procedure.is_published = True
        procedure.has_unpublished_changes = False
        procedure.save(
            update_fields=[
                "published_version",
                "is_published",
                "has_unpublished_changes",
                "updated_at",
            ]
        )
        transaction.on_commit(portal_pages_changed)
        audit_record(
            action="procedure.published", actor=actor, target=procedure.code, version=current.number
        )
    return current


def procedure_unpublish(*, procedure: AgencyProcedure, actor: Any = None) -> AgencyProcedure:
    with transaction.atomic():
        procedure.is_published = False
        procedure.save(update_fields=["is_published", "updated_at"])
        audit_record(action="procedure.unpublished", actor=actor, target=procedure.code)
        transaction.on_commit(portal_pages_changed)
    return procedure


# -- Catalog updates ------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogChange:
    what: str
    old: str
    new: str


def procedure_catalog_changes(
    procedure: AgencyProcedure,
) -> tuple[CatalogVersion | None, list[CatalogChange]]:
    """What the newest catalog version changes compared to the one the agency follows."""
    newest = (
        CatalogVersion.objects.filter(procedure_id=procedure.catalog_procedure_id)
        .order_by("-number")
        .first()
    )
    if newest is None or newest.number <= procedure.catalog_version:
        return None, []
    old = CatalogVersion.objects.get(
        procedure_id=procedure.catalog_procedure_id, number=procedure.catalog_version
    ).spec
    new = newest.spec
    changes: list[CatalogChange] = []
    for attr, label in (
        ("name", _("Name")),
        ("fee", _("Fee")),
        ("processing_days", _("Processing time")),
        ("cutoff_hour", _("Cut-off hour")),
        ("online_mode", _("Online mode")),
        ("result", _("Result")),
        ("legal_basis", _("Legal basis")),
    ):
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            changes.append(CatalogChange(str(label), str(before), str(after)))
    for label, before_items, after_items in (
        (
            _("Dossier component"),
            {c.name: c for c in old.components},
            {c.name: c for c in new.components},
        ),
        (_("Form field"), {f.key: f for f in old.fields}, {f.key: f for f in new.fields}),
        (_("Step"), {s.name: s for s in old.steps}, {s.name: s for s in new.steps}),
    ):
        for name in before_items.keys() - after_items.keys():
            changes.append(CatalogChange(str(label), str(name), "—"))
        for name in after_items.keys() - before_items.keys():
            changes.append(CatalogChange(str(label), "—", str(name)))
        for name in before_items.keys() & after_items.keys():
            if before_items[name] != after_items[name]:
                changes.append(
                    CatalogChange(str(label), repr(before_items[name]), repr(after_items[name]))
                )
    return newest, changes


def procedure_accept_catalog_version(
    *, procedure: AgencyProcedure, actor: Any = None
) -> AgencyProcedure:
    """Follow the newest catalog version. The agency's own settings are kept where the new
    law still allows them; the result is a draft to review and publish."""
    newest, _changes = procedure_catalog_changes(procedure)
    if newest is None:
        raise ValidationError(_("This procedure already follows the newest catalog version."))
    spec = newest.spec
    with transaction.atomic():
        procedure = AgencyProcedure.objects.select_for_update().get(pk=procedure.pk)
        old_required = {c.name: c.required for c in procedure.components.all()}
        online_submission = procedure.online_submission and spec.online_mode != "none"
        procedure.catalog_version = newest.number
        procedure.name, procedure.name_en, procedure.sector = spec.name, spec.name_en, spec.sector
        procedure.online_mode = spec.online_mode
        procedure.processing_days = min(procedure.processing_days, spec.processing_days)
        procedure.fee, procedure.fee_unit = spec.fee, spec.fee_unit
        procedure.cutoff_hour = spec.cutoff_hour
        procedure.online_submission = online_submission
        procedure.online_payment = procedure.online_payment and online_submission
        procedure.result, procedure.legal_basis = spec.result, spec.legal_basis
        procedure.conditions = spec.conditions
        procedure.has_unpublished_changes = True
        procedure.save()
        _write_rows(procedure, spec, keep_extra_fields=True)
        for component in procedure.components.all():
            if old_required.get(component.name) and not component.required:
                component.required = True
                component.save(update_fields=["required"])
        if sum(s.days for s in spec.steps) > procedure.processing_days:
            procedure.processing_days = spec.processing_days
            procedure.save(update_fields=["processing_days"])
        audit_record(
            action="procedure.catalog_accepted",
            actor=actor,
            target=procedure.code,
            catalog_version=newest.number,
        )
    return procedure
