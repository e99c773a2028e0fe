"""The Celery app: every task runs in the schema of the agency it was sent from.

tenant-schemas-celery puts the sender's schema in the task headers and switches
the worker's connection to it before the task runs. Start a worker with
``celery -A config.celery_app worker``.
"""

from __future__ import annotations

import os

from celery.signals import task_failure, task_postrun, task_prerun, task_retry
from tenant_schemas_celery.app import CeleryApp

from tenants.db import connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# The task class guards the jobs of the beat schedule: one run at a time (ops.jobs).
app = CeleryApp("motcua", task_cls="ops.jobs:GuardedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The default for every thread, not only the importing one: a web server's request threads
# send tasks too, and would otherwise get Celery's unconfigured fallback app (amqp://localhost).
app.set_default()
app.autodiscover_tasks()
# The dossier lifecycle is a package, not a Django app (it writes the dossiers app's models).
app.autodiscover_tasks(["lifecycle"])


@task_prerun.connect
def _tag_sentry_with_agency(**_: object) -> None:
    from core.sentry import tag_agency

    tenant = getattr(connection, "tenant", None)
    tag_agency(
        schema_name=connection.schema_name,
        agency_name=str(getattr(tenant, "name", connection.schema_name)),
    )


@task_postrun.connect
def _back_to_the_main_cluster(**_: object) -> None:
    """A task of an agency on another cluster moved the worker's connection there
    (tenants.cluster_backend); tenant-schemas-celery (connected before this) restores the
    schema by name only, so a worker back on the public schema goes back to the main cluster."""
    if connection.cluster is not None and connection.schema_name == "public":
        from django.db import connections

        if not connections["default"].in_atomic_block:
            connection.use_cluster(None)


@task_failure.connect
def _count_failure(sender: object = None, **_: object) -> None:
    from ops.metrics import count_task_failure

    count_task_failure(str(getattr(sender, "name", sender)))


@task_retry.connect
def _count_retry(sender: object = None, **_: object) -> None:
    from ops.metrics import count_task_retry

    count_task_retry(str(getattr(sender, "name", sender)))
