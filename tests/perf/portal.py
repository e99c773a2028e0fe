"""Portal pages under load: procedure detail and tracking lookup vs a minimal view (/ping/).

One gunicorn (bench settings, 2 workers × 4 threads), loopback, keep-alive
clients; the three paths alternate in rounds (≥ 30 s each in total) so the
ratio compares like with like. The tracking lookup is a *successful* one (right
code and secret): the portal counts only wrong answers, against the client that gave
them (portal.lookup_limits: read in the cached page's round trip), so no limit had to
be raised.

Those two are *cache hits* (the whole-page cache, the 30 s tracking cache): what a repeated
visit gets. Beside them, the *cold* figures measure what a first visit gets: the same pages
over ``AGENCIES`` agency hosts (200; each with its own adopted procedures and one dossier),
every client going through the agencies' procedure pages / tracking lookups in turn, with a
``messages`` cookie on every request so neither cache answers (``pagecache.cacheable_request``:
a visitor with a cookie is never served from, nor stored in, the page cache; a ``messages``
cookie that does not verify is dropped without a session or database look-up).
"""

from __future__ import annotations

from urllib.parse import urlencode

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

ROUNDS = size(3, 1)
AGENCIES = size(200, 4)  # hosts of the cold figures
COLD = {"Cookie": "messages=bench-cold"}  # bypasses the page and tracking caches
SECONDS = size(10.0, 1.0)  # per path per round: 30 s per path in all
PROCEDURE = "S-HT-001"
BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Bệnh viện Việt Tiệp",
}


def _seed() -> tuple[str, str]:
    """A commune with the sample catalog adopted and one submitted dossier: (code, secret)."""
    from accounts.models import User
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from lifecycle.submit import Applicant, dossier_submit
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context
    from tests.files import pdf, png

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    agency = create_agency("xa-an-binh", name="Xã An Bình", code="AB")
    citizen = User.objects.create_user(
        "nguyenvana@example.vn",
        "mat-khau-rat-dai-1",
        full_name="Nguyễn Văn A",
        personal_id_number="031095001234",
        phone="0912345678",
        address="Số 1 Lê Lợi, Xã An Bình",
    )
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        result = dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code=PROCEDURE),
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
        )
    return result.dossier.code, result.dossier.lookup_secret


def _seed_many(citizen_email: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``AGENCIES`` more communes, each with the catalog adopted and one dossier:
    (host, procedure page) and (host, tracking lookup) pairs, distinct objects each."""
    from accounts.models import User
    from lifecycle.submit import Applicant, dossier_submit
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context
    from tests.files import pdf, png

    citizen = User.objects.get(email=citizen_email)
    pages: list[tuple[str, str]] = []
    lookups: list[tuple[str, str]] = []
    for i in range(AGENCIES):
        slug = f"xa-lanh-{i:03d}"
        agency = create_agency(slug, name=f"Xã Lạnh {i}", code=f"L{i}")
        host = f"{slug}.localhost"
        with agency_context(agency):
            procedures_adopt_for_kind(agency=agency, publish=True)
            published = AgencyProcedure.objects.filter(is_published=True)
            pages += [(host, f"/thu-tuc/{c}/") for c in published.values_list("code", flat=True)]
            dossier = dossier_submit(
                agency=agency,
                procedure=published.get(code=PROCEDURE),
                applicant=Applicant.from_user(citizen),
                form_data=BIRTH_FORM,
                files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
            ).dossier
        query = urlencode({"ma": dossier.code, "bi-mat": dossier.lookup_secret})
        lookups.append((host, f"/tra-cuu/?{query}"))
    return pages, lookups


def run() -> None:
    setup_django("portal")
    prepare_database()
    code, secret = _seed()
    pages, lookups = _seed_many("nguyenvana@example.vn")
    host = "xa-an-binh.localhost"
    ping = "/ping/"
    procedure = f"/thu-tuc/{PROCEDURE}/"
    tracking = "/tra-cuu/?" + urlencode({"ma": code, "bi-mat": secret})
    procedure_cold, tracking_cold = "procedure pages, cold", "tracking lookups, cold"
    with gunicorn_serving() as port:
        paths = [ping, procedure, tracking, procedure_cold, tracking_cold]
        warm(port, host, [ping, procedure, tracking])
        for cold_host, path in [*pages[:: max(1, len(pages) // 20)], *lookups[:5]]:
            warm(port, cold_host, [path], times=2, headers=COLD)  # connections, templates
        results = interleaved(
            port=port,
            host=host,
            paths=paths,
            seconds_each=SECONDS,
            rounds=ROUNDS,
            mixes={procedure_cold: pages, tracking_cold: lookups},
            path_headers={procedure_cold: COLD, tracking_cold: COLD},
        )
    base = results[ping]
    for path in paths:
        detail(results[path].summary())
    detail(f"hit: tracking lookup of dossier {code} (successful; failed lookups are rate limited)")
    detail(f"cold: {len(pages)} procedure pages and {len(lookups)} dossiers' lookups over "
           f"{AGENCIES} agency hosts, page and tracking caches bypassed")  # fmt: skip
    for label, path, goal in (
        ("portal_detail", procedure, ">=0.6"),
        ("portal_tracking", tracking, ">=0.6"),
        ("portal_detail_cold", procedure_cold, ">=0.4"),
        ("portal_tracking_cold", tracking_cold, ">=0.4"),
    ):
        result = results[path]
        bench_line(f"{label}_ratio", result.throughput / base.throughput, "ratio", goal)
        bench_line(f"{label}_p99", result.percentile(99) * 1000, "ms", "none")
    bench_line("portal_ping", base.throughput, "req/s", "none")


if __name__ == "__main__":
    run()
