"""A small closed-loop HTTP load generator: keep-alive connections from several processes.

Each process runs a few threads, each with one persistent connection, sending
requests back to back for a fixed time, recording every latency; the parent merges them into
throughput and p50/p95/p99. Any non-200 answer counts as an error (and is not
counted as throughput).

A measured path may be a *mix*: a list of (host, path) pairs that every client goes through in
turn from its own starting point (many agencies, many distinct objects), instead of one
address on one host. Headers may be given per path (a cookie that bypasses a cache).
"""

from __future__ import annotations

import http.client
import multiprocessing
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

# Enough concurrent connections to keep the server (2 workers × 4 threads) busy even
# while requests wait on PostgreSQL or Redis round trips.
PROCESSES = 2
CONNECTIONS = 8


@dataclass(frozen=True)
class LoadResult:
    path: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def summary(self) -> str:
        return (
            f"{self.path}: {self.throughput:.1f} req/s, {self.requests} ok, {self.errors} errors, "
            f"p50 {self.percentile(50) * 1000:.1f} ms, p95 {self.percentile(95) * 1000:.1f} ms, "
            f"p99 {self.percentile(99) * 1000:.1f} ms"
        )

    def __add__(self, other: LoadResult) -> LoadResult:
        return LoadResult(
            self.path,
            self.requests + other.requests,
            self.errors + other.errors,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
        )


def _process(
    port: int,
    host: str,
    path: str,
    duration: float,
    connections: int,
    queue: Any,
    headers: dict[str, str] | None = None,
    targets: list[tuple[str, str]] | None = None,
) -> None:
    """One client process: ``connections`` threads, each with its own keep-alive connection."""
    results: list[tuple[list[float], int, str]] = []
    threads = [
        threading.Thread(
            target=_client, args=(port, host, path, duration, results, headers, targets)
        )
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [lat for lats, _e, _f in results for lat in lats]
    queue.put(
        (latencies, sum(e for _l, e, _f in results), next((f for _l, _e, f in results if f), ""))
    )


def _client(
    port: int,
    host: str,
    path: str,
    duration: float,
    out: list[tuple[list[float], int, str]],
    extra_headers: dict[str, str] | None = None,
    targets: list[tuple[str, str]] | None = None,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host, "Connection": "keep-alive", **(extra_headers or {})}
    mix = targets or [(host, path)]
    turn = random.randrange(len(mix))  # where this client starts in the mix
    latencies: list[float] = []
    errors = 0
    first_error = ""
    end = time.perf_counter() + duration
    while True:
        start = time.perf_counter()
        if start >= end:
            break
        headers["Host"], target = mix[turn % len(mix)]
        turn += 1
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            errors += 1
            first_error = first_error or repr(exc)
            continue
        if status == 200:
            latencies.append(time.perf_counter() - start)
        else:
            errors += 1
            first_error = first_error or f"HTTP {status}"
    conn.close()
    out.append((latencies, errors, first_error))


def run_load(
    *,
    port: int,
    host: str,
    path: str,
    duration: float,
    processes: int = PROCESSES,
    connections: int = CONNECTIONS,
    headers: dict[str, str] | None = None,
    targets: list[tuple[str, str]] | None = None,
) -> LoadResult:
    """Load ``path`` on ``host`` for ``duration`` s: ``processes`` × ``connections`` clients
    (``headers``, e.g. a session cookie, go with every request); with ``targets``, the
    clients go through those (host, path) pairs in turn and ``path`` is only the label."""
    # Spawned, not forked: a fork of a process with threads (a test run with a browser or a
    # worker thread) can inherit a held lock and hang for ever.
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process,
            args=(port, host, path, duration, connections, queue, headers, targets),
        )
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=duration + 120) for _ in procs]
    for proc in procs:
        proc.join()
    latencies = [lat for lats, _e, _f in results for lat in lats]
    errors = sum(e for _l, e, _f in results)
    first = next((f for _l, _e, f in results if f), "")
    if errors and not latencies:
        raise RuntimeError(f"every request to {path} failed: {first}")
    if errors:
        print(f"  detail: {path}: {errors} errors (first: {first})", flush=True)
    # Every client stops starting requests at ``duration``: that is the measured window.
    return LoadResult(path, len(latencies), errors, duration, latencies)


def interleaved(
    *,
    port: int,
    host: str,
    paths: list[str],
    seconds_each: float,
    rounds: int,
    processes: int = PROCESSES,
    connections: int = CONNECTIONS,
    headers: dict[str, str] | None = None,
    mixes: dict[str, list[tuple[str, str]]] | None = None,
    path_headers: dict[str, dict[str, str]] | None = None,
) -> dict[str, LoadResult]:
    """Alternate between ``paths`` for ``rounds`` rounds so drift hits every path alike.

    Odd rounds go in reverse order (A B, B A, ...): no path always runs first. A path named in
    ``mixes`` is a label for its (host, path) pairs; ``path_headers`` adds headers to one path.
    """
    totals: dict[str, LoadResult] = {}
    for index in range(rounds):
        for path in paths if index % 2 == 0 else list(reversed(paths)):
            result = run_load(
                port=port,
                host=host,
                path=path,
                duration=seconds_each,
                processes=processes,
                connections=connections,
                headers={**(headers or {}), **(path_headers or {}).get(path, {})},
                targets=(mixes or {}).get(path),
            )
            totals[path] = totals[path] + result if path in totals else result
    return totals
