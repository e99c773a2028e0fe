"""What the usage ledger adds to a dossier submission (issue 6): goal ≤ 10 %.

The same online submission (one small PDF per component) runs alternately with the ledger
writes on and with ``usage_record`` swapped for a no-op in this process only; the overhead is
(median with − median without) / median without, over 300 submissions each.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.perf.common import bench_line, create_agency, detail, prepare_database, setup_django

WARM_UP = 20
SUBMISSIONS = 600
FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}


def _pdf(n: int) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = b"%PDF-1.4\n" + b"0" * 20_000 + f"\n%{n}\n%%EOF\n".encode()
    return SimpleUploadedFile(f"to-khai-{n}.pdf", body, content_type="application/pdf")


def run() -> None:
    setup_django("ledger_overhead")
    prepare_database()
    from django.contrib.auth import get_user_model

    import dossiers.services as dossier_services
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from dossiers.services import Applicant, dossier_submit
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    agency = create_agency("xa-so-cai", code="SC")
    citizen = get_user_model().objects.create_user(
        email="cong-dan@example.vn", password="x", full_name="Nguyễn Văn A",
        personal_id_number="031099001234", phone="0912345678",
    )  # fmt: skip
    real_usage_record = dossier_services.usage_record

    def no_ledger(**_kwargs: Any) -> None:
        return None

    samples: dict[str, list[float]] = {"with": [], "without": []}
    counter = iter(range(1_000_000))
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        applicant = Applicant.from_user(citizen)

        def submit() -> float:
            n = next(counter)
            started = time.perf_counter()
            dossier_submit(agency=agency, procedure=birth, applicant=applicant,
                           form_data=FORM, files={0: [_pdf(n)], 1: [_pdf(n + 1)]})  # fmt: skip
            return time.perf_counter() - started

        for _ in range(WARM_UP):  # first-use costs out of the samples
            submit()
        # Alternate submission by submission, so a busy moment of the machine hits both alike.
        for i in range(SUBMISSIONS):
            mode = ("with", "without")[i % 2]
            dossier_services.usage_record = real_usage_record if mode == "with" else no_ledger
            samples[mode].append(submit())
        dossier_services.usage_record = real_usage_record
    with_ledger = statistics.median(samples["with"])
    without = statistics.median(samples["without"])
    detail(
        f"submission {with_ledger * 1000:.1f} ms with the ledger, {without * 1000:.1f} ms without"
    )
    bench_line("ledger_overhead", (with_ledger - without) / without * 100, "%", "<=10")


if __name__ == "__main__":
    run()
