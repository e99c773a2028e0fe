"""Portal pages under load: procedure detail and tracking lookup vs a minimal view (/ping/).

One gunicorn (bench settings, 2 workers × 4 threads), loopback, keep-alive
clients; the three paths alternate in rounds (≥ 30 s each in total) so the
ratio compares like with like. The tracking lookup is a *successful* one (right
code and secret): the portal counts only wrong answers, against the client that gave
them (portal.lookup_limits: read in the cached page's round trip), so no limit had to
be raised.
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
SECONDS = size(10.0, 1.5)  # per path per round: 30 s per path in all
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
    from dossiers.services import Applicant, dossier_submit
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


def run() -> None:
    setup_django("portal")
    prepare_database()
    code, secret = _seed()
    host = "xa-an-binh.localhost"
    ping = "/ping/"
    procedure = f"/thu-tuc/{PROCEDURE}/"
    tracking = "/tra-cuu/?" + urlencode({"ma": code, "bi-mat": secret})
    with gunicorn_serving() as port:
        paths = [ping, procedure, tracking]
        warm(port, host, paths)
        results = interleaved(
            port=port, host=host, paths=paths, seconds_each=SECONDS, rounds=ROUNDS
        )
    base = results[ping]
    for _label, path in (
        ("ping", ping),
        ("portal_detail", procedure),
        ("portal_tracking", tracking),
    ):
        detail(results[path].summary())
    detail(f"tracking lookup of dossier {code} (successful; failed lookups are rate limited)")
    for label, path in (("portal_detail", procedure), ("portal_tracking", tracking)):
        result = results[path]
        bench_line(f"{label}_ratio", result.throughput / base.throughput, "ratio", ">=0.6")
        bench_line(f"{label}_p99", result.percentile(99) * 1000, "ms", "none")
    bench_line("portal_ping", base.throughput, "req/s", "none")


if __name__ == "__main__":
    run()
