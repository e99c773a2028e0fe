"""``LIFECYCLE.md`` written from the table: ``python manage.py shell -c "from
dossiers.lifecycle.document import write; write()"`` (a test checks the file is current)."""

from __future__ import annotations

from pathlib import Path

from dossiers.lifecycle.table import UNDRAWN, markdown_table, mermaid

PATH = Path(__file__).resolve().parent.parent / "LIFECYCLE.md"

# ``python3 tools/import_graph.py`` before issue 11 (51d19e2) and after it (4f3bd48, before the
# merge with vneid); history, not derived from the table.
FIGURES = """
## Import graph, before and after issue 11

`python3 tools/import_graph.py` on 51d19e2 (before) and 4f3bd48 (after, the lifecycle branch
before it was merged with vneid's app).

| figure | before | after |
| --- | --- | --- |
| apps | 24 | 24 |
| cross-app imports (module level) | 362 | 381 |
| app edges | 129 | 129 |
| cycles (strongly connected groups of apps) | 1 (21 apps) | 1 (21 apps) |
| function-level cross-app imports | 74 | 73 |
| function-level imports (all) | 136 | 133 |
| another app's underscore names imported | 18 | 0 |

Largest modules (lines), before: desk/services.py 884, procedures/services.py 766,
billing/models.py 758, onboarding/exitpack.py 648, dossiers/services.py 620. After:
procedures/services.py 766, billing/models.py 758, onboarding/exitpack.py 648,
dossiers/lifecycle/processing.py 641, onboarding/services.py 607 (desk/services.py 884 → 128,
dossiers/services.py 620 → 503).

Not done yet: the module-level cycle between apps (issue 11, point 4) is still there.
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
