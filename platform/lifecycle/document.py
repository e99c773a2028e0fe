"""``LIFECYCLE.md`` written from the table: ``python manage.py shell -c "from
lifecycle.document import write; write()"`` (a test checks the file is current)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.table import UNDRAWN, markdown_table, mermaid

PATH = Path(__file__).resolve().parent / "LIFECYCLE.md"

# ``python3 tools/import_graph.py`` at the commits named below;
# history, not derived
# from the table.
FIGURES = """
## Import graph, before and after issue 11

`python3 tools/import_graph.py` on 51d19e2 (before), 4f3bd48 (the lifecycle in one home),
40da164 (the lower apps out of the cycle: `core` at the bottom, `trails` reading the trails,
`accounts` handing its mails over through a setting) and 1af76d5 (the rails, signed documents,
clusters and reorganisation merged: the cycle had grown to 9 apps), then after the lifecycle
became a package of its own (`lifecycle`, below desk, portal, api, exchange, reorg, copies):
the desk's workflow models and read-only engine moved into `dossiers` (state-only migrations,
the `desk_` tables untouched), submission and citizens' fees (which call the lifecycle) moved
up with it, and the two hooks from lower apps go through settings
(`BILLING_WEBHOOK_HANDLERS`, `NOTIFICATIONS_ON_SENT`).

| figure | before | lifecycle | lower apps | 1af76d5 | no cycle |
| --- | --- | --- | --- | --- | --- |
| apps | 24 | 24 | 28 | 31 | 32 |
| cross-app imports (module level) | 362 | 381 | 419 | 480 | 496 |
| app edges | 129 | 129 | 126 | 157 | 167 |
| cycles (groups of apps in a loop) | 1 (21 apps) | 1 (21 apps) | 1 (5 apps) | 1 (9 apps) | 0 |
| function-level cross-app imports | 74 | 73 | 84 | 88 | 78 |
| function-level imports (all) | 136 | 133 | 144 | 155 | 144 |
| another app's underscore names imported | 18 | 0 | 0 | 0 | 0 |

No import inside a function hides a cycle either: were each at module level, the graph would
still have none (`tests/test_architecture.py`); they are there for start-up cost or app
loading (`ready()`), not to dodge one. The lower apps (`core`, `tenants`, `audit`, `accounts`,
`workdays`, `catalog`) import only lower ones.

Largest modules (lines), before: desk/services.py 884, procedures/services.py 766,
billing/models.py 758, onboarding/exitpack.py 648, dossiers/services.py 620. Now:
procedures/services.py 788, billing/models.py 758, lifecycle/processing.py 732,
lifecycle/fees.py 725, onboarding/exitpack.py 648 (desk/services.py 884 → 130).
"""


def render() -> str:
    undrawn = ", ".join(f"`{a}`" for a in UNDRAWN)
    return f"""# The dossier lifecycle

Generated from `lifecycle/table.py` (`TRANSITIONS`) by
`lifecycle/document.py`; do not edit by hand (a test compares this file with the
table). The one writer of a dossier's status, events, hand-over trail (Form 06) and Form 04
is the package `lifecycle`; each action is one public function there.

```mermaid
{mermaid()}
```

⏸: the legal clock stands still. Not drawn (they keep the status): {undrawn}.

## Every transition

{markdown_table()}
{FIGURES}"""


def write() -> None:
    PATH.write_text(render(), encoding="utf-8")
