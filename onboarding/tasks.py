"""Celery tasks of onboarding: the pipeline's steps as a chain, and bulk province runs."""

from __future__ import annotations

from typing import Any

from celery import chain, shared_task
from django.db import OperationalError

from onboarding import bulk, services


@shared_task(
    name="onboarding.tasks.application_step",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def application_step(application_id: int, step: str) -> dict[str, Any]:
    """One step; safe to deliver twice (steps are idempotent, done steps are skipped)."""
    application = services.application_step_run(application_id=application_id, step=step)
    return {"step": step, "state": application.state, "percent": application.percent}


def pipeline_send(application_id: int) -> None:
    """Queue the steps in order as one chain (done steps return at once)."""
    chain(*(application_step.si(application_id, step) for step in services.STEPS)).apply_async()


@shared_task(name="onboarding.tasks.province_run_execute", acks_late=True)
def province_run_execute(run_id: int) -> dict[str, Any]:
    run = bulk.province_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "done": run.done, "failed": run.failed}


@shared_task(name="onboarding.tasks.exit_pack_run_execute", acks_late=True)
def exit_pack_run_execute(run_id: int) -> dict[str, Any]:
    from onboarding.offboarding import exit_pack_run_execute as execute

    run = execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "sha256": run.sha256}
