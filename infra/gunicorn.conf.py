"""gunicorn settings of the web pods (infra/docker/entrypoint.sh ``web``)."""

from __future__ import annotations

import os
from typing import Any

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
keepalive = 30
timeout = 60
# SIGTERM (a pod leaving during a roll-out): stop accepting, finish what is in flight.
graceful_timeout = 25
accesslog = "-"
worker_tmp_dir = "/tmp"  # noqa: S108 - an emptyDir in the pod
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")


def child_exit(server: Any, worker: Any) -> None:
    """A worker's /metrics counts stay summed after it exits (prometheus-client multiprocess)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
