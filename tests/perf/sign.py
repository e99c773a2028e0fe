"""Signing a 2-page result (issue 15): goal ≤ 300 ms; the 5,000-row register PDF: ≤ 10 s with
bounded memory.

The signature is the real path: a result sheet laid out by ReportLab, signed PAdES by the
agency's organisation certificate (a PKCS#12 file of a fresh local CA under the bench key root)
with an RFC 3161 timestamp from the loopback timestamp server (``tests/fakes/tsa_server``).
The cold figure is the first signature of the process (the key file is read and decrypted, the
HTTP connection to the timestamp server opened); the warm figure is the median of the next
ones, the case of a running web or Celery worker. Each signed file is verified afterwards.

The register is drawn from a generator of 5,000 rows (the shape ``sheets.register_lines``
yields from the database cursor), so the figure is the drawing itself; the peak of Python
resident memory's growth while drawing (sampled from /proc) is printed beside it.
"""

from __future__ import annotations

import io
import shutil
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.perf.common import bench_line, detail, setup_django, size

SCHEMA = "bench_sign"
WARM_RUNS = size(15, 4)
REGISTER_ROWS = size(5_000, 500)


def _result_pdf() -> bytes:
    from documents import sheets
    from documents.pdf import Sheet, Signature, sheet_pdf

    out = io.BytesIO()
    sheet = Sheet(
        agency="UBND Xã An Bình",
        title="KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        facts=[("Số", "123/GCN-UBND"), ("Người nộp", "Nguyễn Thị Hồng Nhung")],
        blocks=["Hộ kinh doanh Tạp hoá Minh An được cấp giấy chứng nhận đăng ký. " * 60],
        signature=Signature(title="Chủ tịch", name="Lãnh Đạo Ứng"),
        qr=[("https://xa-an-binh.localhost/xac-thuc/ABCDEFGHJKLMNPQRSTUV/", "Quét để xác thực")],
    )
    sheet_pdf(sheet, out, texts=sheets.texts())
    return out.getvalue()


def _rows(count: int) -> Iterator[Sequence[str]]:
    for i in range(1, count + 1):
        yield (
            str(i),
            f"000.00.01.H{i:05d}-261203-{i:04d}",
            "08:30 03/12/2026",
            "Trực tuyến" if i % 3 else "Trực tiếp",
            "Đăng ký thành lập hộ kinh doanh (cấp xã)",
            f"Nguyễn Thị Hồng Nhung {i}",
            f"Số {i}, đường Trần Hưng Đạo, phường Bến Nghé, thành phố Hồ Chí Minh",
            "17/12/2026",
            "Đang xử lý",
            "",
            "",
        )


class _RssSampler:
    """The process's resident memory, sampled every 10 ms; ``stop`` returns the peak growth."""

    def __init__(self) -> None:
        self.base = self.peak = self._rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    def _loop(self) -> None:
        while not self._done.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        return self.peak - self.base


def _pages(data: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])


def run() -> None:
    setup_django("sign")
    from django.test import override_settings

    from documents import keys, sheets, signing, verify
    from documents.pdf import register_pdf
    from tests.fakes.tsa_server import TimestampServer

    root = keys.key_root()
    shutil.rmtree(root, ignore_errors=True)
    ca = keys.authority_create(keys.ca_dir())
    keys.certificate_issue(ca, keys.ca_dir() / "tsa.p12", common_name="TSA", timestamping=True)
    keys.certificate_issue(
        ca, keys.organisation_path(SCHEMA), common_name="UBND Xã An Bình", organisation="UBND"
    )
    tsa = TimestampServer(keys.ca_dir() / "tsa.p12", keys.passphrase())
    tsa.start()
    try:
        with override_settings(SIGNING_TSA_URL=tsa.url):
            pdf = _result_pdf()
            detail(f"result sheet: {_pages(pdf)} pages, {len(pdf) // 1024} KiB")
            getattr(signing, "signers_forget", lambda: None)()

            started = time.perf_counter()
            signed = signing.pdf_sign(pdf, signing.organisation_signer(SCHEMA), field_name="Org")
            cold = (time.perf_counter() - started) * 1000
            assert verify.pdf_verify(signed).code == verify.VALID

            warm: list[float] = []
            for _ in range(WARM_RUNS):
                started = time.perf_counter()
                signed = signing.pdf_sign(
                    pdf, signing.organisation_signer(SCHEMA), field_name="Org"
                )
                warm.append((time.perf_counter() - started) * 1000)
            assert verify.pdf_verify(signed).code == verify.VALID
            detail(f"timestamp queries: {tsa.requests}; warm runs: {WARM_RUNS}")
            bench_line("sign_result_cold", cold, "ms", "<=300")
            bench_line("sign_result_warm", statistics.median(warm), "ms", "<=300")
    finally:
        tsa.stop()
        shutil.rmtree(root, ignore_errors=True)

    out = io.BytesIO()
    sampler = _RssSampler()
    sampler.start()
    started = time.perf_counter()
    count = register_pdf(
        _rows(REGISTER_ROWS),
        out,
        agency="UBND Xã An Bình",
        title="SỔ THEO DÕI HỒ SƠ",
        headers=sheets.register_headers(),
        widths_mm=sheets.REGISTER_WIDTHS,
        texts=sheets.texts(),
    )
    seconds = time.perf_counter() - started
    growth = sampler.stop()
    assert count == REGISTER_ROWS
    detail(f"register: {count} rows, {_pages(out.getvalue())} pages, {out.tell() // 1024} KiB")
    bench_line("register_pdf_5000", seconds, "s", "<=10")
    # Bounded: the page being drawn plus the compressed pages written (``out`` holds the PDF).
    bench_line("register_pdf_rss_growth", growth / 2**20, "MiB", "<=64")


if __name__ == "__main__":
    run()
