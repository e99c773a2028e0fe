"""Overhead of hostname routing: a tenant page with and without AgencyRoutingMiddleware.

Both variants are served by the same gunicorn (tests/perf/wsgi_routing.py), in
the same run, alternating in short rounds so machine noise hits both alike.
"""

from __future__ import annotations

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

ROUNDS = size(8, 1)
SECONDS = size(3.0, 1.0)
UNROUTED = "/_khong-dinh-tuyen"


def run() -> None:
    setup_django("routing")
    prepare_database()
    agency = create_agency("xa-dinh-tuyen", name="Xã Định Tuyến")
    host = "xa-dinh-tuyen.localhost"
    env = {"BENCH_PINNED_SCHEMA": agency.schema_name}
    # Never preloaded: this app builds a second handler at import, which forked workers would
    # share (the one quick-mode crash seen, an HTTP 500 in the warm-up, was here).
    with gunicorn_serving(
        app="tests.perf.wsgi_routing:application", env=env, preload=False
    ) as port:
        for page, label in (("/", "routing"), ("/ping/", "routing_ping")):
            paths = [page, UNROUTED + page]
            warm(port, host, paths)
            results = interleaved(
                port=port, host=host, paths=paths, seconds_each=SECONDS, rounds=ROUNDS
            )
            routed, unrouted = results[page], results[UNROUTED + page]
            detail(f"routed   {routed.summary()}")
            detail(f"unrouted {unrouted.summary()}")
            bench_line(label, routed.throughput / unrouted.throughput, "ratio", ">=0.9")


if __name__ == "__main__":
    run()
