"""The lifecycle's table: the diagram in LIFECYCLE.md is generated from it, and every row is
one the lifecycle's functions can reach."""

from __future__ import annotations

import pytest

from dossiers.models import DossierStatus
from lifecycle import TRANSITIONS, transition
from lifecycle.document import PATH, render
from lifecycle.table import ACTIONS, allowed_sources, mermaid


def test_lifecycle_md_is_generated_from_the_table() -> None:
    assert PATH.read_text(encoding="utf-8") == render(), (
        "LIFECYCLE.md is stale: write it again with lifecycle.document.write()"
    )


def test_the_diagram_shows_every_status_change() -> None:
    diagram = mermaid()
    for row in TRANSITIONS:
        if row.source != row.target:
            source = "any_status" if row.source == "*" else (row.source or "[*]")
            assert f"{source} --> {row.target}: " in diagram, row


def test_every_status_appears_and_every_row_is_unique() -> None:
    keys = [row.key for row in TRANSITIONS]
    assert len(keys) == len(set(keys))
    targets = {row.target for row in TRANSITIONS}
    assert set(DossierStatus.values) <= targets


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_a_lookup(action: str) -> None:
    for source in allowed_sources(action):
        rows = [r for r in TRANSITIONS if r.source in (source, "*") and r.action == action]
        assert rows
        for r in rows:
            assert transition(source, action, source if r.target == "*" else r.target) is r
    assert transition("no-such-status", action) is None
