"""``LIFECYCLE.md`` written from the table: ``python manage.py shell -c "from
dossiers.lifecycle.document import write; write()"`` (a test checks the file is current)."""

from __future__ import annotations

from pathlib import Path

from dossiers.lifecycle.table import UNDRAWN, markdown_table, mermaid

PATH = Path(__file__).resolve().parent.parent / "LIFECYCLE.md"


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
"""


def write() -> None:
    PATH.write_text(render(), encoding="utf-8")
