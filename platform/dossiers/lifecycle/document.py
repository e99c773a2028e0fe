"""``LIFECYCLE.md`` written from the table: ``python manage.py shell -c "from
dossiers.lifecycle.document import write; write()"`` (a test checks the file is current)."""

from __future__ import annotations

from pathlib import Path

from dossiers.lifecycle.table import UNDRAWN, markdown_table, mermaid

PATH = Path(__file__).resolve().parent.parent / "LIFECYCLE.md"

# ``python3 tools/import_graph.py`` before issue 11 (51d19e2), after the lifecycle's move
# (4f3bd48) and after the lower apps were freed from the cycle (40da164); history, not derived
# from the table.
FIGURES = """
## Import graph, before and after issue 11

`python3 tools/import_graph.py` on 51d19e2 (before), 4f3bd48 (the lifecycle in one home) and
40da164 (the lower apps out of the cycle: `core` at the bottom, `trails` reading the trails,
`accounts` handing its mails over through a setting; the rails and signed-documents work
merged in between added apps and imports).

| figure | before | lifecycle | now |
| --- | --- | --- | --- |
| apps | 24 | 24 | 28 |
| cross-app imports (module level) | 362 | 381 | 419 |
| app edges | 129 | 129 | 126 |
| cycles (strongly connected groups of apps) | 1 (21 apps) | 1 (21 apps) | 1 (5 apps) |
| function-level cross-app imports | 74 | 73 | 84 |
| function-level imports (all) | 136 | 133 | 144 |
| another app's underscore names imported | 18 | 0 | 0 |

The lower apps (`core`, `tenants`, `audit`, `accounts`, `workdays`, `catalog`) import only
lower ones, at module or function level (`tests/test_architecture.py`). The cycle left is
`desk`, `dossiers`, `nationalsync`, `notifications`, `reports`: the lifecycle (in `dossiers`)
uses the desk's workflow models and engine and calls the three side-effect apps, which read
`dossiers.models`. Next step: the lifecycle as an app of its own above those three, with the
desk's workflow models and engine moved under it (a state-only migration, as Form 04's was).

Largest modules (lines), before: desk/services.py 884, procedures/services.py 766,
billing/models.py 758, onboarding/exitpack.py 648, dossiers/services.py 620. Lifecycle:
procedures/services.py 766, billing/models.py 758, onboarding/exitpack.py 648,
dossiers/lifecycle/processing.py 641, onboarding/services.py 607 (desk/services.py 884 → 128,
dossiers/services.py 620 → 503). Now: procedures/services.py 781, billing/models.py 758,
dossiers/fees.py 688, onboarding/exitpack.py 648, agencyadmin/views.py 643.
"""


def render() -> str:
    undrawn = ", ".join(f"`{a}`" for a in UNDRAWN)
    return f"""# The dossier lifecycle

Generated from `dossiers/lifecycle/table.py` (`TRANSITIONS`) by
`dossiers/lifecycle/document.py`; do not edit by hand (a test compares this file with the
table). The one writer of a dossier's status, events, hand-over trail (Form 06) and Form 04
is the package `dossiers.lifecycle`; each action is one public function there.

```mermaid
{mermaid()}
```

⏸: the legal clock stands still. Not drawn (they keep the status): {undrawn}.

## Every transition

{markdown_table()}
{FIGURES}"""


def write() -> None:
    PATH.write_text(render(), encoding="utf-8")
