"""Suspending, reactivating and offboarding an agency, and exit-pack runs with progress.

Offboarding contract: the exit pack is written and read back (every checksum) first; only then,
in one transaction, the schema is dropped, the domains removed and the agency marked offboarded,
with an audit row naming the pack. The pack is the archive of the schema.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection as django_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.accounts import subscription_end
from billing.models import Subscription
from onboarding import exitpack
from onboarding.models import Application, ApplicationState, ExitPackRun
from onboarding.services import _transition, application_reactivate, application_suspend
from tenants import schemas, storage
from tenants import services as tenant_services
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency, AgencyStatus, Domain, SchemaState


def exit_pack_root() -> Path:
    return Path(
        getattr(settings, "EXIT_PACK_ROOT", Path(settings.MEDIA_ROOT).parent / "exit-packs")
    )


def default_pack_path(agency: Agency) -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return exit_pack_root() / f"{agency.slug}-{stamp}.zip"


def agency_suspend(*, agency: Agency, actor_email: str = "", reason: str = "") -> Agency:
    """Suspend: citizens keep tracking and fetching results; no new online dossiers."""
    application = Application.objects.filter(agency=agency).first()
    if application is not None and application.state == ApplicationState.LIVE:
        application_suspend(application=application, actor_email=actor_email, reason=reason)
        agency.refresh_from_db()
        return agency
    return tenant_services.agency_set_status(
        agency=agency, status=AgencyStatus.SUSPENDED, actor_email=actor_email, reason=reason
    )


def agency_reactivate(*, agency: Agency, actor_email: str = "") -> Agency:
    application = Application.objects.filter(agency=agency).first()
    if application is not None and application.state == ApplicationState.SUSPENDED:
        application_reactivate(application=application, actor_email=actor_email)
        agency.refresh_from_db()
        return agency
    return tenant_services.agency_set_status(
        agency=agency, status=AgencyStatus.ACTIVE, actor_email=actor_email
    )


def agency_offboard(
    *, agency: Agency, pack: Path | str, actor_email: str = "", reason: str = ""
) -> Agency:
    """Drop a suspended agency's schema once ``pack`` (its exit pack) has been verified."""
    agency.refresh_from_db()
    if agency.status != AgencyStatus.SUSPENDED:
        raise ValidationError(
            _("Suspend %(name)s before offboarding it.") % {"name": agency.name},
            code="not_suspended",
        )
    manifest = exitpack.exit_pack_verify(path=pack)
    if (
        manifest["agency"]["id"] != agency.pk
        or manifest["agency"]["schema_name"] != agency.schema_name
    ):
        raise ValidationError(_("This exit pack belongs to another agency."), code="wrong_agency")
    sha256 = exitpack._file_sha256(Path(pack))
    media = exitpack.agency_media_root(agency)
    connection.set_schema_to_public()
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        schemas.advisory_lock(agency.schema_name)
        with connection.cursor() as cursor:
            # Deferred checks of rows written earlier in this transaction run now, not at DROP.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schemas.drop_agency_schema(agency.schema_name)
        SchemaState.objects.filter(schema_name=agency.schema_name).delete()
        hosts = list(Domain.objects.filter(tenant=agency).values_list("domain", flat=True))
        for domain in Domain.objects.filter(tenant=agency):
            domain.delete()
        tenant_services.agency_set_status(
            agency=agency, status=AgencyStatus.OFFBOARDED, actor_email=actor_email, reason=reason
        )
        if Subscription.objects.filter(agency=agency, ends_on__isnull=True).exists():
            # Billed up to and including today; the ledger and invoices stay (and are in the pack).
            subscription_end(agency=agency, ends_on=timezone.localdate(), actor_email=actor_email)
        tenant_services.agency_event_record(
            agency,
            "offboarded",
            actor_email=actor_email,
            pack=str(pack),
            pack_sha256=sha256,
            tables=len(manifest["tables"]),
            files=manifest["files"]["count"],
            domains_removed=hosts,
        )
        application = Application.objects.filter(agency=agency).first()
        if application is not None and application.state == ApplicationState.SUSPENDED:
            _transition(
                application,
                ApplicationState.OFFBOARDED,
                actor_email=actor_email,
                pack=str(pack),
                pack_sha256=sha256,
            )
        transaction.on_commit(lambda: _files_remove(agency, media))
    agency.refresh_from_db()
    return agency


def exit_pack_keep(*, path: Path, sha256: str) -> str:
    """Store a written pack in the exit-pack storage and check the stored copy; where it is.

    On local disk (the default) packs are written where they are kept: nothing to do. In the
    bucket, the copy is read back and its sha256 compared before the local file may go.
    """
    packs = storages["exit_packs"]
    if isinstance(packs, FileSystemStorage):  # written under EXIT_PACK_ROOT: that is the copy
        return str(path)
    with path.open("rb") as stream:
        name = packs.save(path.name, File(stream, name=path.name))
    digest = hashlib.sha256()
    with packs.open(name, "rb") as stream:
        while chunk := stream.read(exitpack.CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        packs.delete(name)
        raise RuntimeError(f"the stored copy of {path.name} differs from the pack written")
    bucket = getattr(packs, "bucket_name", "")
    location = getattr(packs, "location", "")
    return f"s3://{bucket}/{location}/{name}" if bucket else name


def _files_remove(agency: Agency, media: Path) -> None:
    """An offboarded agency's files: the pack holds them; on disk or in the bucket, they go."""
    with agency_context(agency):
        storage.agency_files_delete()
    shutil.rmtree(media, ignore_errors=True)  # the emptied folders, when kept on local disk


def exit_pack_run_request(*, agency: Agency, offboard: bool, actor_email: str = "") -> ExitPackRun:
    """Queue an export (and offboarding) on Celery; progress is on the returned row."""
    agency.refresh_from_db()
    if agency.status not in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
        raise ValidationError(
            _("%(name)s has no data left to export.") % {"name": agency.name}, code="gone"
        )
    if offboard and agency.status != AgencyStatus.SUSPENDED:
        raise ValidationError(
            _("Suspend %(name)s before offboarding it.") % {"name": agency.name},
            code="not_suspended",
        )
    if ExitPackRun.objects.filter(agency=agency, status__in=["queued", "running"]).exists():
        raise ValidationError(
            _("An export of %(name)s is already running.") % {"name": agency.name}, code="running"
        )
    with transaction.atomic():
        run = ExitPackRun.objects.create(agency=agency, offboard=offboard, actor_email=actor_email)
        from onboarding.tasks import exit_pack_run_execute

        transaction.on_commit(lambda: exit_pack_run_execute.delay(run.pk))
    return run


def exit_pack_run_execute(*, run_id: int) -> ExitPackRun:
    """Write the pack with live progress, then offboard if asked. Failures end on the row."""
    run = ExitPackRun.objects.select_related("agency").get(pk=run_id)
    if run.status not in ("queued", "running"):
        return run
    path = default_pack_path(run.agency)
    ExitPackRun.objects.filter(pk=run.pk).update(status="running", path=str(path))

    # The export reads one snapshot in one transaction; progress goes through a connection of
    # its own so that the console sees it while the export runs.
    progress_db = psycopg.connect(**django_connection.get_connection_params(), autocommit=True)

    def progress(percent: int, step: str) -> None:
        progress_db.execute(
            "UPDATE public.onboarding_exitpackrun SET percent = %s, step = %s WHERE id = %s",
            [percent, step[:80], run.pk],
        )

    try:
        info = exitpack.exit_pack_export(agency=run.agency, path=path, progress=progress)
        exitpack.exit_pack_verify(path=path)
        # Kept where packs are kept (the bucket in production) and read back before anything
        # is dropped: a worker's local disk does not outlive the worker.
        kept = exit_pack_keep(path=path, sha256=info.sha256)
        ExitPackRun.objects.filter(pk=run.pk).update(sha256=info.sha256, size=info.size, path=kept)
        if run.offboard:
            progress(99, "offboarding")
            agency_offboard(agency=run.agency, pack=path, actor_email=run.actor_email)
        if kept != str(path):
            path.unlink(missing_ok=True)
    except Exception as exc:
        connection.set_schema_to_public()
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else repr(exc)
        ExitPackRun.objects.filter(pk=run.pk).update(
            status="failed", error=message[:2000], finished_at=timezone.now()
        )
    else:
        ExitPackRun.objects.filter(pk=run.pk).update(
            status="finished", percent=100, step="", finished_at=timezone.now()
        )
    finally:
        progress_db.close()
    run.refresh_from_db()
    return run


def _unavailable() -> ValidationError:
    return ValidationError(
        _("This exit pack is not available any more (not finished, or moved)."), code="no_pack"
    )


def _stored_pack_name(where: str) -> str | None:
    """The name in the exit-pack storage of a pack kept in the bucket (``s3://bucket/loc/name``,
    as :func:`exit_pack_keep` wrote it), or None when ``where`` is a local file."""
    if not where.startswith("s3://"):
        return None
    packs = storages["exit_packs"]
    bucket = getattr(packs, "bucket_name", "")
    location = getattr(packs, "location", "")
    prefix = f"s3://{bucket}/{location}/"
    name = where.removeprefix(prefix)
    if not bucket or name == where or not name or "/" in name or name.startswith("."):
        raise _unavailable()  # kept in another bucket than the one configured now
    if not packs.exists(name):
        raise _unavailable()
    return name


def _finished_pack(run: ExitPackRun) -> Path:
    """The local file of a finished export, if it is still where the run wrote it."""
    path = Path(run.path) if run.path else None
    root = exit_pack_root().resolve()
    if (
        run.status != "finished"
        or path is None
        or not path.resolve().is_relative_to(root)
        or not path.is_file()
    ):
        raise _unavailable()
    return path


def exit_pack_download(*, run: ExitPackRun, actor_email: str = "") -> tuple[IO[bytes], str]:
    """The pack of a finished export (an open stream and its file name), for a member of the
    provider's staff to download, from local disk or the bucket; every download is recorded in
    the agency's history (the pack holds all of its data)."""
    if run.status != "finished":
        raise _unavailable()
    name = _stored_pack_name(run.path)
    if name is not None:
        stream: IO[bytes] = storages["exit_packs"].open(name, "rb")
        filename = name
    else:
        path = _finished_pack(run)
        stream, filename = path.open("rb"), path.name
    tenant_services.agency_event_record(
        run.agency, "exit_pack_downloaded", actor_email=actor_email, run=run.pk, sha256=run.sha256
    )
    return stream, filename


@contextmanager
def _pack_at_hand(run: ExitPackRun) -> Iterator[Path]:
    """A local file of the run's pack: the file itself on disk, or a checked copy fetched from
    the bucket (its sha256 must be the run's), removed afterwards."""
    if run.status != "finished":
        raise _unavailable()
    if run.path.startswith("s3://"):
        with exit_pack_fetched(where=run.path, sha256=run.sha256) as path:
            yield path
    else:
        yield _finished_pack(run)


@contextmanager
def exit_pack_fetched(*, where: str, sha256: str = "") -> Iterator[Path]:
    """A local copy of a pack kept in the bucket (``s3://…`` as a run records it) in the
    exit-pack folder, checked against ``sha256`` when given, removed afterwards."""
    name = _stored_pack_name(where)
    if name is None:
        raise _unavailable()
    root = exit_pack_root()
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    # A dot name, like a pack being written: files_to_bucket never copies it.
    handle, temp = tempfile.mkstemp(prefix=".fetched-", suffix=".zip", dir=root)
    try:
        with os.fdopen(handle, "wb") as out, storages["exit_packs"].open(name, "rb") as stream:
            while chunk := stream.read(exitpack.CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if sha256 and digest.hexdigest() != sha256:
            raise ValidationError(
                _("The stored exit pack differs from the one exported; it was not used."),
                code="pack_changed",
            )
        yield Path(temp)
    finally:
        Path(temp).unlink(missing_ok=True)


def exit_pack_restore(
    *, run: ExitPackRun, slug: str, name: str = "", actor_email: str = ""
) -> Agency:
    """A new agency ``slug`` from a finished export: every table with its ids, and its files
    (``exitpack.exit_pack_import``: all or nothing). The pack is verified again first; one kept
    in the bucket is fetched and checked against the export's sha256 before that."""
    with _pack_at_hand(run) as path:
        return exitpack.exit_pack_import(path=path, slug=slug, name=name, actor_email=actor_email)
