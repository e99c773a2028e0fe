"""Official administrative units (vietnam-provinces, 2025 two-level structure) and agency slugs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vietnam_provinces import Province, Ward

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    codename: str
    province_code: str


@dataclass(frozen=True)
class DepartmentSpec:
    slug: str
    name: str
    name_en: str


@lru_cache(maxsize=1)
def provinces() -> dict[str, str]:
    """Province code (zero-padded, e.g. "31") → official name."""
    return {f"{int(p.code):02d}": p.name for p in Province.iter_all()}


def province_codename(province_code: str) -> str:
    for p in Province.iter_all():
        if int(p.code) == int(province_code):
            return str(p.codename).replace("_", "-")
    raise KeyError(province_code)


def communes_of(province_code: str) -> list[Commune]:
    code = int(province_code)
    return sorted(
        (
            Commune(
                code=f"{int(w.code):05d}",
                name=w.name,
                codename=str(w.codename),
                province_code=f"{code:02d}",
            )
            for w in Ward.iter_all()
            if int(w.province_code) == code
        ),
        key=lambda c: c.code,
    )


def commune_slug(commune: Commune) -> str:
    """Readable and unique nationwide: names repeat, even inside one province."""
    return f"{commune.codename.replace('_', '-')}-{commune.code}"


def department_slug(spec: DepartmentSpec, province_code: str) -> str:
    return f"{spec.slug}-{province_codename(province_code)}"


def sample_departments() -> list[DepartmentSpec]:
    data = json.loads((DATA_DIR / "departments.sample.json").read_text(encoding="utf-8"))
    return [DepartmentSpec(d["slug"], d["name"], d.get("name_en", "")) for d in data["departments"]]
