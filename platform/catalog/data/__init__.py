"""Bundled catalog data: the sample national catalog (demo and tests)."""

from pathlib import Path

SAMPLE_CATALOG = Path(__file__).resolve().parent / "procedures.sample.json"
