"""Scheduled jobs never run twice at once: two real workers are sent the same job together
(what two beat processes do); one runs it, the other skips it; later runs go ahead."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings

from config.celery_app import app
from ops.jobs import GuardedTask, job_counts, job_lock, scheduled_task_names
from tests.fixtures.worker import ROOT, WorkerProcess

JOB = "desk.tasks.deadline_scan"


def test_every_scheduled_task_is_guarded() -> None:
    app.loader.import_default_modules()
    names = scheduled_task_names()
    assert names == {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert names and all(isinstance(app.tasks[name], GuardedTask) for name in names)


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_exclusive_and_released_after_the_run() -> None:
    held = threading.Event()
    release = threading.Event()
    seen: list[bool] = []

    def holder() -> None:
        with job_lock("test-job") as acquired:
            seen.append(acquired)
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    with job_lock("test-job") as second:
        seen.append(second)
    release.set()
    thread.join(10)
    with job_lock("test-job") as third:
        seen.append(third)
    assert seen == [True, False, True]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_runs_sent_together_to_a_real_worker_run_the_job_once(
    celery_worker_process: WorkerProcess,
) -> None:
    """A worker running two tasks at once is sent the job twice (what two beats do)."""
    celery_worker_process.stop()  # this test's worker is the only one on the queue
    env = dict(celery_worker_process.env)
    env["MOTCUA_FAILPOINTS"] = f"job.{JOB}:sleep3"  # a run holds the job for 3 seconds
    worker = WorkerProcess(
        env, ROOT / "var" / "test-logs" / "celery-two-runs.log", ("threads", "--concurrency", "2")
    )
    worker.start()
    try:
        before = job_counts(JOB)
        results = [app.send_task(JOB) for _ in range(2)]
        outcomes = [r.get(timeout=60) for r in results]
        after = job_counts(JOB)
        assert sorted("skipped" in outcome for outcome in outcomes) == [False, True], outcomes
        assert after["started"] - before["started"] == 1
        assert after["finished"] - before["finished"] == 1
        assert after["skipped"] - before["skipped"] == 1
        # The lock went with the run: the next run goes ahead.
        again = app.send_task(JOB).get(timeout=60)
        assert "skipped" not in again, again
    finally:
        worker.stop()  # the session's worker starts again for the next test that needs it
