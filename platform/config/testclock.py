"""A fake, ticking clock shared by every process of a date-boundary test run.

``python3 dev.py test --clock 2027-03-01T07:15+07:00`` sets ``MOTCUA_TEST_CLOCK``; the
test settings call :func:`clock_start`, so pytest, the Celery worker and the live
servers a test starts all see the same wall clock, moving at real speed from the
destination. Only the test settings use it (time-machine is a test dependency).
"""

from __future__ import annotations

import datetime as dt
import os
import time

ANCHOR_VARIABLE = "MOTCUA_TEST_CLOCK_ANCHOR"


def clock_start(destination: str) -> dt.datetime:
    """Travel to ``destination`` plus the real time passed since the run's anchor."""
    import time_machine

    when = dt.datetime.fromisoformat(destination)
    if when.tzinfo is None:
        raise ValueError(f"MOTCUA_TEST_CLOCK needs a UTC offset, e.g. +07:00: {destination!r}")
    real_now = time.time()
    # The first process of the run fixes the anchor; its children inherit it.
    anchor = float(os.environ.setdefault(ANCHOR_VARIABLE, repr(real_now)))
    now = when + dt.timedelta(seconds=max(0.0, real_now - anchor))
    time_machine.travel(now, tick=True).start()
    return now
