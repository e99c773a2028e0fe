"""Named fault-injection points, so tests can crash the real code at a chosen step.

Inactive unless the environment variable MOTCUA_FAILPOINTS names the point:
``MOTCUA_FAILPOINTS=provision.after_schema:kill`` kills the process there
(SIGKILL: no cleanup, no rollback by Python; the database must cope), and
``...:raise`` raises FailpointError, ``...:sleep2.5`` waits 2.5 seconds there (to make two runs
overlap). Several points are comma-separated.
"""

from __future__ import annotations

import os
import signal
import time


class FailpointError(RuntimeError):
    pass


def _active() -> dict[str, str]:
    spec = os.environ.get("MOTCUA_FAILPOINTS", "")
    points: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, action = item.partition(":")
        points[name] = action or "raise"
    return points


def failpoint(name: str) -> None:
    action = _active().get(name)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action.startswith("sleep"):
        time.sleep(float(action.removeprefix("sleep") or 1))
        return
    raise FailpointError(f"failpoint {name} triggered")
