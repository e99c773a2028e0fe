"""Adopting, configuring and publishing procedures in the active agency's schema.

Every change is recorded in the agency's audit trail. The draft configuration
can be edited freely; ``procedure_publish`` validates it as a whole and freezes
it into a new ``ProcedureVersion``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.services import audit_record
from catalog.models import CatalogProcedure, CatalogVersion
from catalog.selectors import catalog_for_kind
from catalog.spec import (
    FIELD_KEY_RE,
    FIELD_TYPES,
    MAX_FILES_LIMIT,
    NUMBER_TYPES,
    STEP_ROLES,
    Component,
    FormField,
    ProcedureSpec,
    SpecError,
    Step,
    parse_spec,
)
from procedures.models import (
    AgencyProcedure,
    ProcedureComponent,
    ProcedureField,
    ProcedureStep,
    ProcedureVersion,
)
from tenants.context import on_commit_in_schema
from tenants.models import Agency
from tenants.pagecache import portal_pages_changed

if TYPE_CHECKING:
    from accounts.models import User

MAX_FEE = 10**12


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
            min_value=f.min_value,
            max_value=f.max_value,
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


def procedure_adopt(
    *, catalog_procedure: CatalogProcedure, actor: User | None = None
) -> AgencyProcedure:
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
    *, agency: Agency, actor: User | None = None, publish: bool = False
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
    min_value: int | float | None = None
    max_value: int | float | None = None


def _bound_json(value: float | None) -> int | float | None:
    """A stored bound as the spec writes it (whole numbers as integers)."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


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
                "min_value": _bound_json(f.min_value),
                "max_value": _bound_json(f.max_value),
            }
            for f in procedure.fields.all()
        ],
        "steps": [
            {"name": s.name, "role": s.role, "days": s.days, "transfer": s.transfer}
            for s in procedure.steps.all()
        ],
    }
    return parse_spec(data, path=procedure.code)


def _configuration_errors(
    *,
    procedure: AgencyProcedure,
    catalog: ProcedureSpec,
    fee: int,
    processing_days: int,
    cutoff_hour: int,
    online_submission: bool,
    online_payment: bool,
    components: Sequence[ComponentInput],
    extra_fields: Sequence[FieldInput],
    steps: Sequence[StepInput],
) -> dict[str, list[str]]:
    """Every rule a configuration must meet, checked before anything is written."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not 0 <= processing_days <= catalog.processing_days:
        add(
            "processing_days",
            _("The processing time cannot exceed the legal %(days)d working days.")
            % {"days": catalog.processing_days}
            if processing_days > catalog.processing_days
            else _("The processing time cannot be negative."),
        )
    if fee < 0:
        add("fee", _("The fee cannot be negative."))
    elif fee > MAX_FEE:
        add("fee", _("The fee is too large."))
    if not 0 <= cutoff_hour <= 24:
        add("cutoff_hour", _("The cut-off hour must be between 0 and 24."))
    if online_submission and procedure.online_mode == "none":
        add("online_submission", _("This procedure cannot be submitted online by law."))
    if online_payment and not online_submission:
        add("online_payment", _("Online payment needs online submission."))
    existing = list(procedure.components.all())
    if len(components) != len(existing):
        add("components", _("The list of dossier components does not match the procedure."))
    else:
        for row, new in zip(existing, components, strict=True):
            if row.required_by_catalog and not new.required:
                add(
                    "components",
                    _("“%(name)s” is required by law and cannot be made optional.")
                    % {"name": row.name},
                )
            if not 1 <= new.max_files <= MAX_FILES_LIMIT:
                add(
                    "components",
                    _("A component allows between 1 and %(max)d files.") % {"max": MAX_FILES_LIMIT},
                )
    taken = set(procedure.fields.filter(from_catalog=True).values_list("key", flat=True))
    taken |= {f.key for f in catalog.fields}
    seen: set[str] = set()
    for number, f in enumerate(extra_fields, start=1):
        where = _("Field %(n)d") % {"n": number}
        if not FIELD_KEY_RE.match(f.key):
            add(
                "extra_fields",
                _(
                    "%(where)s: the key “%(key)s” must start with a letter and use only "
                    "lowercase letters, digits and _ (at most 40)."
                )
                % {"where": where, "key": f.key},
            )
        elif f.key in taken or f.key in seen:
            add(
                "extra_fields",
                _("%(where)s: the field key “%(key)s” is already used.")
                % {"where": where, "key": f.key},
            )
        seen.add(f.key)
        if not f.label.strip():
            add("extra_fields", _("%(where)s: the label is required.") % {"where": where})
        if f.type not in FIELD_TYPES:
            add("extra_fields", _("%(where)s: unknown field type.") % {"where": where})
        if f.type == "choice" and not [c for c in f.choices if c.strip()]:
            add(
                "extra_fields",
                _("%(where)s: a choice field needs at least one choice.") % {"where": where},
            )
        if f.type not in NUMBER_TYPES and (f.min_value is not None or f.max_value is not None):
            add(
                "extra_fields",
                _("%(where)s: only number fields take a minimum or a maximum.") % {"where": where},
            )
        elif f.min_value is not None and f.max_value is not None and f.min_value > f.max_value:
            add(
                "extra_fields",
                _("%(where)s: the minimum is greater than the maximum.") % {"where": where},
            )
        if f.pattern:
            try:
                re.compile(f.pattern)
            except re.error:
                add(
                    "extra_fields",
                    _("%(where)s: the pattern is not a valid regular expression.")
                    % {"where": where},
                )
    if not steps:
        add("steps", _("The internal process needs at least one step."))
    for number, s in enumerate(steps, start=1):
        where = _("Step %(n)d") % {"n": number}
        if not s.name.strip():
            add("steps", _("%(where)s: the name is required.") % {"where": where})
        if s.role not in STEP_ROLES:
            add("steps", _("%(where)s: unknown role.") % {"where": where})
        if not 0 <= s.days <= 365:
            add("steps", _("%(where)s: between 0 and 365 working days.") % {"where": where})
    total = sum(s.days for s in steps)
    if steps and total > processing_days:
        add(
            "steps",
            _("The steps take %(steps)d working days, more than the processing time (%(days)d).")
            % {"steps": total, "days": processing_days},
        )
    return errors


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
    actor: User | None = None,
    fee_before_result: bool | None = None,
    identity_level_required: int | None = None,
) -> AgencyProcedure:
    """Save the agency's settings for a procedure (a draft until published).

    ``fee_before_result`` and ``identity_level_required`` (None: unchanged) apply at once:
    the desk and the portal read them from the procedure, not from its published version.

    The law's limits hold: a component the catalog requires stays required, the
    processing time cannot exceed the catalog's, and the steps must fit in it.
    Everything is checked (with the row locked) before anything is written, so a
    refused configuration leaves the procedure exactly as it was. Errors are keyed
    by what they concern: fee, processing_days, cutoff_hour, online_submission,
    online_payment, components, extra_fields, steps.
    """
    with transaction.atomic():
        procedure = AgencyProcedure.objects.select_for_update().get(pk=procedure.pk)
        catalog = CatalogVersion.objects.get(
            procedure_id=procedure.catalog_procedure_id, number=procedure.catalog_version
        ).spec
        errors = _configuration_errors(
            procedure=procedure,
            catalog=catalog,
            fee=fee,
            processing_days=processing_days,
            cutoff_hour=cutoff_hour,
            online_submission=online_submission,
            online_payment=online_payment,
            components=components,
            extra_fields=extra_fields,
            steps=steps,
        )
        if errors:
            raise ValidationError(errors)
        existing = list(procedure.components.all())
        catalog_fields = list(procedure.fields.filter(from_catalog=True))
        procedure.fee = fee
        procedure.processing_days = processing_days
        procedure.cutoff_hour = cutoff_hour
        procedure.online_submission = online_submission
        procedure.online_payment = online_payment
        if fee_before_result is not None:
            procedure.fee_before_result = fee_before_result
        if identity_level_required is not None:
            if identity_level_required not in (0, 1, 2):
                raise ValidationError({"identity_level_required": _("Choose level 0, 1 or 2.")})
            procedure.identity_level_required = identity_level_required
        procedure.has_unpublished_changes = True
        procedure.save(
            update_fields=[
                "fee_before_result",
                "identity_level_required",
                "fee",
                "processing_days",
                "cutoff_hour",
                "online_submission",
                "online_payment",
                "has_unpublished_changes",
                "updated_at",
            ]
        )
        for row, new in zip(existing, components, strict=True):
            row.required, row.max_files = new.required, new.max_files
        ProcedureComponent.objects.bulk_update(existing, ["required", "max_files"])
        procedure.fields.filter(from_catalog=False).delete()
        start = max((f.position for f in catalog_fields), default=-1) + 1
        ProcedureField.objects.bulk_create(
            ProcedureField(
                procedure=procedure,
                position=start + i,
                key=f.key,
                label=f.label.strip(),
                type=f.type,
                required=f.required,
                choices=[c.strip() for c in f.choices if c.strip()],
                pattern=f.pattern,
                min_value=f.min_value,
                max_value=f.max_value,
                from_catalog=False,
            )
            for i, f in enumerate(extra_fields)
        )
        procedure.steps.all().delete()
        ProcedureStep.objects.bulk_create(
            ProcedureStep(
                procedure=procedure,
                position=i,
                name=s.name.strip(),
                role=s.role,
                days=s.days,
                transfer=s.transfer,
            )
            for i, s in enumerate(steps)
        )
        try:
            procedure_spec(procedure)  # belt and braces: the whole is still a valid procedure
        except SpecError as exc:
            raise ValidationError(exc.errors) from exc
        audit_record(
            action="procedure.configured",
            actor=actor,
            target=procedure.code,
            fee=fee,
            processing_days=processing_days,
            cutoff_hour=cutoff_hour,
            online_submission=online_submission,
            online_payment=online_payment,
            fee_before_result=procedure.fee_before_result,
            identity_level_required=procedure.identity_level_required,
            extra_fields=[f.key for f in extra_fields],
            steps=len(steps),
        )
    return procedure


def _spec_digest(spec: ProcedureSpec, online_submission: bool, online_payment: bool) -> str:
    blob = json.dumps([spec.to_json(), online_submission, online_payment], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def procedure_publish(*, procedure: AgencyProcedure, actor: User | None = None) -> ProcedureVersion:
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
        on_commit_in_schema(portal_pages_changed)
        audit_record(
            action="procedure.published", actor=actor, target=procedure.code, version=current.number
        )
    return current


def procedure_unpublish(
    *, procedure: AgencyProcedure, actor: User | None = None
) -> AgencyProcedure:
    with transaction.atomic():
        procedure.is_published = False
        procedure.save(update_fields=["is_published", "updated_at"])
        audit_record(action="procedure.unpublished", actor=actor, target=procedure.code)
        on_commit_in_schema(portal_pages_changed)
    return procedure


# -- Catalog updates ------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogChange:
    """One human-readable difference: what changed, how it read before and after."""

    what: str
    old: str
    new: str


@dataclass(frozen=True)
class CatalogUpdate:
    """A newer catalog version than the one the agency follows.

    ``in_effect`` is False while its effective date is still ahead: the admin
    sees what will change but can accept it only from that date.
    """

    version: CatalogVersion
    changes: list[CatalogChange]
    in_effect: bool

    @property
    def effective_from(self) -> dt.date:
        return self.version.effective_from


def _yes_no(value: bool) -> str:
    return str(_("yes") if value else _("no"))


def _describe_component(c: Component) -> str:
    return _("%(name)s (%(required)s, up to %(n)d file(s))") % {
        "name": c.name,
        "required": _("required") if c.required else _("optional"),
        "n": c.max_files,
    }


def _describe_field(f: FormField) -> str:
    return _("%(label)s [%(key)s, %(type)s]") % {"label": f.label, "key": f.key, "type": f.type}


def _describe_step(s: Step) -> str:
    return _("%(name)s (%(role)s, %(days)d working day(s))") % {
        "name": s.name,
        "role": s.role,
        "days": s.days,
    }


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value) or "—"
    text = str(value)
    return text if text.strip() else "—"


def _spec_changes(old: ProcedureSpec, new: ProcedureSpec) -> list[CatalogChange]:
    changes: list[CatalogChange] = []
    for attr, label in (
        ("name", _("Name")),
        ("sector", _("Sector")),
        ("fee", _("Fee")),
        ("fee_unit", _("Fee unit")),
        ("processing_days", _("Processing time (working days)")),
        ("cutoff_hour", _("Cut-off hour")),
        ("online_mode", _("Online mode")),
        ("result", _("Result")),
        ("legal_basis", _("Legal basis")),
        ("conditions", _("Conditions")),
        ("applicant_types", _("Applicant types")),
    ):
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            changes.append(CatalogChange(str(label), _display(before), _display(after)))

    def compare(
        label: str,
        before: dict[str, Any],
        after: dict[str, Any],
        describe: Any,
        attrs: tuple[tuple[str, str], ...],
    ) -> None:
        for key in before:
            if key not in after:
                changes.append(
                    CatalogChange(
                        capfirst(_("%(what)s removed") % {"what": label}),
                        describe(before[key]),
                        "—",
                    )
                )
        for key in after:
            if key not in before:
                changes.append(
                    CatalogChange(
                        capfirst(_("%(what)s added") % {"what": label}), "—", describe(after[key])
                    )
                )
        for key in before:
            if key in after and before[key] != after[key]:
                for attr, attr_label in attrs:
                    b, a = getattr(before[key], attr), getattr(after[key], attr)
                    if b != a:
                        changes.append(
                            CatalogChange(
                                capfirst(f"{label} “{key}”: {attr_label}"),
                                _display(b),
                                _display(a),
                            )
                        )

    compare(
        str(_("Dossier component")),
        {c.name: c for c in old.components},
        {c.name: c for c in new.components},
        _describe_component,
        (("required", str(_("required"))), ("max_files", str(_("maximum files")))),
    )
    compare(
        str(_("Form field")),
        {f.key: f for f in old.fields},
        {f.key: f for f in new.fields},
        _describe_field,
        (
            ("label", str(_("label"))),
            ("type", str(_("type"))),
            ("required", str(_("required"))),
            ("choices", str(_("choices"))),
            ("pattern", str(_("pattern"))),
            ("min_value", str(_("minimum"))),
            ("max_value", str(_("maximum"))),
        ),
    )
    compare(
        str(_("Step")),
        {s.name: s for s in old.steps},
        {s.name: s for s in new.steps},
        _describe_step,
        (
            ("role", str(_("role"))),
            ("days", str(_("working days"))),
            ("transfer", str(_("inter-agency transfer"))),
        ),
    )
    return changes


def procedure_catalog_update(procedure: AgencyProcedure) -> CatalogUpdate | None:
    """The catalog version the agency could move to, with what it changes.

    The newest version already in effect wins; if none newer is in effect yet, the
    next upcoming one is returned (``in_effect=False``) so the admin can prepare.
    """
    newer = list(
        CatalogVersion.objects.filter(
            procedure_id=procedure.catalog_procedure_id, number__gt=procedure.catalog_version
        ).order_by("-number")
    )
    if not newer:
        return None
    today = timezone.localdate()
    in_effect = [v for v in newer if v.effective_from <= today]
    target = in_effect[0] if in_effect else min(newer, key=lambda v: v.effective_from)
    old = CatalogVersion.objects.get(
        procedure_id=procedure.catalog_procedure_id, number=procedure.catalog_version
    ).spec
    return CatalogUpdate(target, _spec_changes(old, target.spec), bool(in_effect))


def procedure_catalog_changes(
    procedure: AgencyProcedure,
) -> tuple[CatalogVersion | None, list[CatalogChange]]:
    """The newest catalog version in effect that the agency does not follow yet, and its changes."""
    update = procedure_catalog_update(procedure)
    if update is None or not update.in_effect:
        return None, []
    return update.version, update.changes


def procedure_accept_catalog_version(
    *, procedure: AgencyProcedure, actor: User | None = None
) -> AgencyProcedure:
    """Follow the newest catalog version. The agency's own settings are kept where the new
    law still allows them; the result is a draft to review and publish."""
    with transaction.atomic():
        procedure = AgencyProcedure.objects.select_for_update().get(pk=procedure.pk)
        update = procedure_catalog_update(procedure)
        if update is None:
            raise ValidationError(_("This procedure already follows the newest catalog version."))
        if not update.in_effect:
            raise ValidationError(
                _("The new catalog version takes effect on %(date)s; accept it from that day.")
                % {"date": update.effective_from.strftime("%d/%m/%Y")}
            )
        newest = update.version
        spec = newest.spec
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
