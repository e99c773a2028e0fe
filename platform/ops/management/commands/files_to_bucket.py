"""Copy the files kept on local disk into the private bucket (FILES_S3_BUCKET): resumable.

    python manage.py files_to_bucket [--media-root DIR] [--exit-packs DIR] [--jobs 4]
                                     [--verify-content]

Run it again after an interruption: what is in the bucket already (same size, MD5 and sha256)
is skipped. Exit status 1 when a file could not be copied or checked. See ops/bucket.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.bucket import MoveReport, files_move_to_bucket
from tenants.storage import AgencyS3Storage, bucket_make_private


class Command(BaseCommand):
    help = "Copy local files (MEDIA_ROOT, EXIT_PACK_ROOT) into the bucket; resumable, checked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--media-root", default=str(settings.MEDIA_ROOT))
        parser.add_argument(
            "--exit-packs",
            default=str(getattr(settings, "EXIT_PACK_ROOT", "")),
            help="folder of exit packs to copy under exit-packs/ ('' to skip)",
        )
        parser.add_argument("--jobs", type=int, default=4)
        parser.add_argument(
            "--verify-content",
            action="store_true",
            help="download every uploaded object and hash it again",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        storage = storages["default"]
        if not isinstance(storage, AgencyS3Storage):
            raise CommandError(
                "The default storage is not the bucket: set FILES_S3_BUCKET (and its endpoint "
                "and keys) for this command."
            )
        bucket_make_private(storage)
        client = storage.connection.meta.client

        def progress(report: MoveReport) -> None:
            self.stdout.write(
                f"{report.done}/{report.files} files ({report.bytes / 1e6:.1f} MB): "
                f"{report.uploaded} uploaded, {report.skipped} already there, "
                f"{len(report.failed)} failed"
            )

        packs = options["exit_packs"]
        report = files_move_to_bucket(
            client=client,
            bucket=storage.bucket_name,
            media_root=Path(options["media_root"]),
            prefix=storage.base_location,
            exit_pack_root=Path(packs) if packs else None,
            jobs=options["jobs"],
            verify_content=options["verify_content"],
            progress=progress,
        )
        for line in report.failed:
            self.stderr.write(line)
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) not copied; run the command again.")
        self.stdout.write(self.style.SUCCESS(f"done: {report.files} files in the bucket"))
