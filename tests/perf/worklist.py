"""The officer's worklist page with 50,000 dossiers in the agency: p95 ≤ 150 ms.

One commune with the sample catalog; 50,000 household-business dossiers are
bulk-inserted with their processes (a third open, spread over the three steps,
ten officers and ±30 days of due dates; the benchmark officer holds about 1,000).
gunicorn (bench settings, 2 workers × 4 threads) serves
``/mot-cua/`` to keep-alive clients carrying a signed-in session cookie. The
headline is the officer's own list (the page's default); the team and overdue
lists are reported beside it.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
from typing import Any

from tests.perf.common import (
    bench_line,
    create_agency,
    detail,
    gunicorn_serving,
    prepare_database,
    setup_django,
    size,
    warm,
)
from tests.perf.loadgen import interleaved

DOSSIERS = size(50_000, 6_000)
OPEN_EVERY = 3  # every third dossier is still open
OFFICERS = 10
BATCH = 5_000
ROUNDS = size(2, 1)
SECONDS = size(8.0, 1.0)
# Four officers opening their worklists back to back (2 processes × 2 keep-alive
# connections): a latency goal, so the clients must not queue behind each other on
# this 2-core machine the way a throughput test's 16 clients do.
PROCESSES = 2
CONNECTIONS = 2
HOST = "xa-an-binh.localhost"
PROCEDURE = "S-KD-001"


def _seed() -> tuple[Any, Any]:
    """The commune, its officers, and the dossiers; returns (agency, benchmark officer)."""
    from accounts.models import User
    from accounts.services import membership_grant
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from dossiers.models import Channel, Dossier, DossierProcess, DossierStatus
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    agency = create_agency("xa-an-binh", name="Xã An Bình", code="AB")
    officers = []
    for n in range(OFFICERS):
        user = User.objects.create_user(f"can-bo-{n}@example.vn", "x", full_name=f"Cán Bộ {n}")
        membership_grant(user=user, agency=agency, roles=("officer",))
        officers.append(user)
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        shop = AgencyProcedure.objects.get(code=PROCEDURE)
        version_id = shop.published_version_id
        assert version_id is not None
        steps = [("Tiếp nhận", "receptionist"), ("Thẩm định", "officer"), ("Phê duyệt", "leader")]
        today = dt.date.today()
        now = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        for start in range(0, DOSSIERS, BATCH):
            dossiers = []
            processes = []
            for n in range(start, min(DOSSIERS, start + BATCH)):
                is_open = n % OPEN_EVERY == 0
                due = today + dt.timedelta(days=(n % 61) - 30)
                received = now - dt.timedelta(minutes=n)
                dossiers.append(
                    Dossier(
                        code=f"AB-{n:06d}",
                        lookup_secret="bench",
                        procedure_id=shop.pk,
                        procedure_version_id=version_id,
                        channel=Channel.ONLINE if n % 3 else Channel.DESK,
                        applicant_name=f"Người Nộp {n}",
                        status=DossierStatus.IN_PROCESSING if is_open else DossierStatus.RETURNED,
                        received_at=received,
                        counting_start=due - dt.timedelta(days=3),
                        due_date=due,
                        completed_at=None if is_open else received,
                    )
                )
            Dossier.objects.bulk_create(dossiers, batch_size=BATCH)
            for n, d in zip(range(start, start + len(dossiers)), dossiers, strict=True):
                is_open = n % OPEN_EVERY == 0
                step = {0: 0, 4: 2}.get((n // OPEN_EVERY) % 5, 1)
                name, role = steps[step]
                processes.append(
                    DossierProcess(
                        dossier_id=d.pk,
                        procedure_id=shop.pk,
                        step_position=step if is_open else None,
                        step_name=name if is_open else "",
                        step_role=role if is_open else "",
                        assignee_id=(
                            officers[(n // 15) % OFFICERS].pk if is_open and step == 1 else None
                        ),
                        step_started_at=d.received_at,
                        step_due_date=d.due_date if is_open else None,
                        outcome="" if is_open else "on_time",
                    )
                )
            DossierProcess.objects.bulk_create(processes, batch_size=BATCH)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        detail(f"seeded {DOSSIERS} dossiers in {time.perf_counter() - started:.1f} s")
    return agency, officers[0]


def _session_cookie(user: Any, agency: Any) -> str:
    """A signed-in session for ``user`` bound to the agency's host, as the login would make."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts.mfa import SESSION_KEY as MFA_SESSION_KEY
    from tenants.routing import SESSION_AGENCY_KEY
    from tests.fixtures.mfa import totp_enable

    totp_enable(user)  # staff pages want a second factor proven in the session
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_AGENCY_KEY] = agency.schema_name
    store[MFA_SESSION_KEY] = str(user.pk)
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def run() -> None:
    setup_django("worklist")
    prepare_database()
    agency, officer = _seed()
    headers = {"Cookie": _session_cookie(officer, agency)}
    mine, team, overdue = "/mot-cua/", "/mot-cua/?ds=cua-nhom", "/mot-cua/?ds=qua-han"
    with gunicorn_serving(ready_host=HOST) as port:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{mine}", headers={"Host": HOST, **headers}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
        rows = body.count('href="/mot-cua/ho-so/')
        if rows != 100:
            raise RuntimeError(
                f"the officer's worklist at {response.url} shows {rows} dossiers, expected 100"
            )
        paths = [mine, team, overdue]
        warm(port, HOST, paths, headers=headers)
        results = interleaved(
            port=port,
            host=HOST,
            paths=paths,
            seconds_each=SECONDS,
            rounds=ROUNDS,
            processes=PROCESSES,
            connections=CONNECTIONS,
            headers=headers,
        )
    for path in paths:
        detail(results[path].summary())
    detail(
        f"{DOSSIERS} dossiers, every {OPEN_EVERY}rd open; 100 rows per page; "
        f"{PROCESSES * CONNECTIONS} concurrent clients"
    )
    bench_line("worklist_p95", results[mine].percentile(95) * 1000, "ms", "<=150")
    bench_line("worklist_team_p95", results[team].percentile(95) * 1000, "ms", "<=150")
    bench_line("worklist_overdue_p95", results[overdue].percentile(95) * 1000, "ms", "<=150")


if __name__ == "__main__":
    run()
