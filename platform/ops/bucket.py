"""Moving files kept on local disk into the private bucket: resumable, idempotent, checked.

Every agency's folder ``MEDIA_ROOT/<schema>/`` becomes the prefix ``<FILES_S3_PREFIX>/<schema>/``
and the exit packs of ``EXIT_PACK_ROOT`` the prefix ``exit-packs/`` — the very names the
storages of ``FILES_S3_BUCKET`` read, so the database rows need no change.

A file is uploaded with its MD5 (``Content-MD5``: the server refuses a body that arrives
different) and its sha256 in the object's metadata, then the object is read back (HEAD: size,
ETag = MD5, the sha256; ``verify_content`` downloads it and hashes it again). A file already in
the bucket with the same size and checksums is skipped, so a run that was interrupted is simply
started again and carries on where it stopped; a run over a finished migration uploads nothing.
Local files are never deleted here.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


@dataclass(frozen=True)
class LocalFile:
    path: Path
    key: str
    size: int


@dataclass
class MoveReport:
    files: int = 0
    bytes: int = 0
    uploaded: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.uploaded + self.skipped + len(self.failed)


def local_files(
    *, media_root: Path, prefix: str, exit_pack_root: Path | None
) -> Iterator[LocalFile]:
    """Every local file with the bucket key it belongs at, in a stable order."""
    sources = [(media_root, prefix.strip("/"))]
    if exit_pack_root is not None:
        sources.append((exit_pack_root, "exit-packs"))
    for root, key_prefix in sources:
        if not root.is_dir():
            continue
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(directory) / filename
                relative = path.relative_to(root).as_posix()
                if filename.startswith(".exitpack-") or "/." in f"/{relative}":
                    continue  # a pack still being written, hidden working files
                key = f"{key_prefix}/{relative}" if key_prefix else relative
                yield LocalFile(path, key, path.stat().st_size)


def _digests(path: Path) -> tuple[str, str]:
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def _same(head: dict[str, Any], *, size: int, md5: str, sha256: str) -> bool:
    return (
        int(head.get("ContentLength", -1)) == size
        and str(head.get("ETag", "")).strip('"') == md5
        and head.get("Metadata", {}).get("sha256") == sha256
    )


def _head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(client.head_object(Bucket=bucket, Key=key))
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def move_one(client: Any, bucket: str, item: LocalFile, *, verify_content: bool) -> str:
    """Upload one file unless it is there already; 'uploaded' or 'skipped'. Raises on mismatch."""
    md5, sha256 = _digests(item.path)
    head = _head(client, bucket, item.key)
    if head is not None and _same(head, size=item.size, md5=md5, sha256=sha256):
        return "skipped"
    content_type = mimetypes.guess_type(item.path.name)[0] or "application/octet-stream"
    with item.path.open("rb") as body:
        client.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=body,
            ContentMD5=base64.b64encode(bytes.fromhex(md5)).decode(),
            ContentType=content_type,
            Metadata={"sha256": sha256},
        )
    head = _head(client, bucket, item.key)
    if head is None or not _same(head, size=item.size, md5=md5, sha256=sha256):
        raise RuntimeError(f"{item.key}: the stored object differs from {item.path}")
    if verify_content:
        digest = hashlib.sha256()
        for chunk in client.get_object(Bucket=bucket, Key=item.key)["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise RuntimeError(f"{item.key}: the downloaded object's sha256 differs")
    return "uploaded"


def files_move_to_bucket(
    *,
    client: Any,
    bucket: str,
    media_root: Path,
    prefix: str,
    exit_pack_root: Path | None = None,
    jobs: int = 4,
    verify_content: bool = False,
    progress: Callable[[MoveReport], None] | None = None,
    progress_every: float = 2.0,
) -> MoveReport:
    """Copy every local file to its key in ``bucket``; see the module docstring."""
    items = list(local_files(media_root=media_root, prefix=prefix, exit_pack_root=exit_pack_root))
    report = MoveReport(files=len(items), bytes=sum(item.size for item in items))
    last = time.monotonic()

    def one(item: LocalFile) -> tuple[LocalFile, str]:
        try:
            return item, move_one(client, bucket, item, verify_content=verify_content)
        except Exception as exc:  # reported per file; the others carry on
            return item, f"failed: {exc}"

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for item, outcome in pool.map(one, items):
            if outcome == "uploaded":
                report.uploaded += 1
            elif outcome == "skipped":
                report.skipped += 1
            else:
                report.failed.append(f"{item.key}: {outcome}")
            if progress is not None and (time.monotonic() - last >= progress_every):
                last = time.monotonic()
                progress(report)
    if progress is not None:
        progress(report)
    return report
