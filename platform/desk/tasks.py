"""Celery tasks of the desk: thin wrappers around the services, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="desk.tasks.deadline_scan", acks_late=True)
def deadline_scan() -> dict[str, int]:
    from desk.deadlines import deadline_scan as scan

    report = scan()
    return {
        "agencies": report.agencies,
        "apologies": report.apologies,
        "reminders": report.reminders,
    }
