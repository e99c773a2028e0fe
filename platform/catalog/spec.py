"""The content of one procedure version: what a citizen must provide and how it is processed.

The same shape describes a national catalog version and an agency's published
configuration, so it is parsed and validated in one place. ``parse_spec``
turns untrusted JSON into a ``ProcedureSpec`` or raises ``SpecError`` listing
every problem with its field path.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

ONLINE_MODES = ("full", "partial", "none")
FIELD_TYPES = ("text", "textarea", "integer", "decimal", "date", "choice", "email", "phone")
STEP_ROLES = ("receptionist", "officer", "leader")
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{1,39}$")
MAX_FILES_LIMIT = 20


class SpecError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Component:
    name: str
    required: bool = True
    max_files: int = 1


NUMBER_TYPES = ("integer", "decimal")
# The largest bound a number field may declare (the fee's limit: amounts are in đồng).
NUMBER_BOUND_LIMIT = 10**15


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""
    # Bounds of a number field. Numbers on an administrative form are amounts, counts
    # or measures: without a declared minimum, a negative answer is refused.
    min_value: int | float | None = None
    max_value: int | float | None = None


@dataclass(frozen=True)
class Step:
    name: str
    role: str
    days: int = 0
    transfer: bool = False


@dataclass(frozen=True)
class ProcedureSpec:
    code: str
    name: str
    sector: str
    name_en: str = ""
    agency_kinds: tuple[str, ...] = ()
    online_mode: str = "full"
    processing_days: int = 0
    cutoff_hour: int = 17
    fee: int = 0
    fee_unit: str = ""
    result: str = ""
    legal_basis: str = ""
    applicant_types: tuple[str, ...] = ()
    conditions: str = ""
    transfer_to_kinds: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()
    fields: tuple[FormField, ...] = ()
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, stable key order (hashable for change detection)."""
        data = asdict(self)
        for item in data["fields"]:
            # Undeclared bounds are left out: specs stored before bounds existed keep
            # their content hash (no new catalog version for an unchanged procedure).
            for bound in ("min_value", "max_value"):
                if item[bound] is None:
                    del item[bound]
        return _lists(data)  # type: ignore[no-any-return]


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def _text(
    data: dict[str, Any],
    key: str,
    path: str,
    errors: list[str],
    *,
    required: bool = False,
    max_length: int = 500,
) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(f"{path}.{key}: must be text")
        return ""
    text = str(value).strip()
    if required and not text:
        errors.append(f"{path}.{key}: is required")
    if len(text) > max_length:
        errors.append(f"{path}.{key}: longer than {max_length} characters")
    return text


def _int(
    data: dict[str, Any],
    key: str,
    path: str,
    errors: list[str],
    *,
    default: int,
    low: int,
    high: int,
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(f"{path}.{key}: must be a whole number")
        return default
    if not low <= value <= high:
        errors.append(f"{path}.{key}: must be between {low} and {high}")
    return int(value)


def _bound(data: dict[str, Any], key: str, path: str, errors: list[str]) -> int | float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        errors.append(f"{path}.{key}: must be a number")
        return None
    if not -NUMBER_BOUND_LIMIT <= value <= NUMBER_BOUND_LIMIT:
        errors.append(
            f"{path}.{key}: must be between -{NUMBER_BOUND_LIMIT} and {NUMBER_BOUND_LIMIT}"
        )
        return None
    return int(value) if isinstance(value, int) else float(value)


def _bool(data: dict[str, Any], key: str, path: str, errors: list[str], default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        errors.append(f"{path}.{key}: must be true or false")
        return default
    return value


def _str_list(data: dict[str, Any], key: str, path: str, errors: list[str]) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{path}.{key}: must be a list of texts")
        return ()
    return tuple(v.strip() for v in value)


def parse_spec(
    data: Any, *, path: str = "procedure", agency_kinds: tuple[str, ...] = ()
) -> ProcedureSpec:
    """Validate one procedure record; raise SpecError with every problem found."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise SpecError([f"{path}: must be an object"])
    code = _text(data, "code", path, errors, required=True, max_length=40)
    if code and not CODE_RE.match(code):
        errors.append(f"{path}.code: “{code}” is not a valid procedure code")
    name = _text(data, "name", path, errors, required=True)
    sector = _text(data, "sector", path, errors, required=True, max_length=150)
    kinds = _str_list(data, "agency_kinds", path, errors)
    if agency_kinds:
        for kind in kinds:
            if kind not in agency_kinds:
                errors.append(f"{path}.agency_kinds: unknown agency kind “{kind}”")
    online_mode = _text(data, "online_mode", path, errors) or "full"
    if online_mode not in ONLINE_MODES:
        errors.append(f"{path}.online_mode: must be one of {', '.join(ONLINE_MODES)}")
    components = []
    raw_components = data.get("components", [])
    if not isinstance(raw_components, list):
        errors.append(f"{path}.components: must be a list")
        raw_components = []
    for i, item in enumerate(raw_components):
        p = f"{path}.components[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{p}: must be an object")
            continue
        components.append(
            Component(
                name=_text(item, "name", p, errors, required=True),
                required=_bool(item, "required", p, errors, True),
                max_files=_int(
                    item, "max_files", p, errors, default=1, low=1, high=MAX_FILES_LIMIT
                ),
            )
        )
    fields: list[FormField] = []
    raw_fields = data.get("fields", [])
    if not isinstance(raw_fields, list):
        errors.append(f"{path}.fields: must be a list")
        raw_fields = []
    seen_keys: set[str] = set()
    for i, item in enumerate(raw_fields):
        p = f"{path}.fields[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{p}: must be an object")
            continue
        key = _text(item, "key", p, errors, required=True, max_length=40)
        if key and not FIELD_KEY_RE.match(key):
            errors.append(f"{p}.key: “{key}” must be lowercase letters, digits and _")
        if key in seen_keys:
            errors.append(f"{p}.key: “{key}” is used twice")
        seen_keys.add(key)
        ftype = _text(item, "type", p, errors) or "text"
        if ftype not in FIELD_TYPES:
            errors.append(f"{p}.type: must be one of {', '.join(FIELD_TYPES)}")
        choices = _str_list(item, "choices", p, errors)
        if ftype == "choice" and not choices:
            errors.append(f"{p}.choices: a choice field needs choices")
        pattern = _text(item, "pattern", p, errors, max_length=200)
        if pattern:
            try:
                re.compile(pattern)
            except re.error:
                errors.append(f"{p}.pattern: not a valid regular expression")
        min_value = _bound(item, "min_value", p, errors)
        max_value = _bound(item, "max_value", p, errors)
        if (min_value is not None or max_value is not None) and ftype not in NUMBER_TYPES:
            errors.append(f"{p}: only integer and decimal fields take min_value/max_value")
        if min_value is not None and max_value is not None and min_value > max_value:
            errors.append(f"{p}.min_value: greater than max_value")
        fields.append(
            FormField(
                key=key,
                label=_text(item, "label", p, errors, required=True),
                type=ftype,
                required=_bool(item, "required", p, errors, False),
                choices=choices,
                pattern=pattern,
                min_value=min_value,
                max_value=max_value,
            )
        )
    steps = []
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        errors.append(f"{path}.steps: at least one processing step is required")
        raw_steps = raw_steps if isinstance(raw_steps, list) else []
    for i, item in enumerate(raw_steps):
        p = f"{path}.steps[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{p}: must be an object")
            continue
        role = _text(item, "role", p, errors, required=True)
        if role and role not in STEP_ROLES:
            errors.append(f"{p}.role: must be one of {', '.join(STEP_ROLES)}")
        steps.append(
            Step(
                name=_text(item, "name", p, errors, required=True),
                role=role,
                days=_int(item, "days", p, errors, default=0, low=0, high=365),
                transfer=_bool(item, "transfer", p, errors, False),
            )
        )
    processing_days = _int(data, "processing_days", path, errors, default=0, low=0, high=365)
    if steps and sum(s.days for s in steps) > processing_days:
        errors.append(
            f"{path}.steps: step days add up to {sum(s.days for s in steps)}, "
            f"more than processing_days ({processing_days})"
        )
    spec = ProcedureSpec(
        code=code,
        name=name,
        sector=sector,
        name_en=_text(data, "name_en", path, errors),
        agency_kinds=kinds,
        online_mode=online_mode,
        processing_days=processing_days,
        cutoff_hour=_int(data, "cutoff_hour", path, errors, default=17, low=0, high=24),
        fee=_int(data, "fee", path, errors, default=0, low=0, high=10**12),
        fee_unit=_text(data, "fee_unit", path, errors, max_length=50),
        result=_text(data, "result", path, errors),
        legal_basis=_text(data, "legal_basis", path, errors, max_length=2000),
        applicant_types=_str_list(data, "applicant_types", path, errors),
        conditions=_text(data, "conditions", path, errors, max_length=4000),
        transfer_to_kinds=_str_list(data, "transfer_to_kinds", path, errors),
        components=tuple(components),
        fields=tuple(fields),
        steps=tuple(steps),
    )
    if errors:
        raise SpecError(errors)
    return spec


def spec_from_json(data: dict[str, Any]) -> ProcedureSpec:
    """Rebuild a spec stored by ``to_json`` (already validated when stored)."""
    return parse_spec(data)
