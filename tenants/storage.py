"""Where files live: each agency's under its own prefix, on local disk or in a private bucket.

Two backends with the same layout, ``<root>/<schema>/<name>``:

- local (the default of ``dev.py up`` and the tests): django-tenants' TenantFileSystemStorage,
  ``MEDIA_ROOT/<schema>/<name>``;
- object storage (production, ``FILES_S3_BUCKET``): :class:`AgencyS3Storage`, django-storages'
  S3 backend with the key ``<FILES_S3_PREFIX>/<schema>/<name>``.

The bucket is private: objects are written without a public ACL, the bucket's public access is
blocked (:func:`bucket_make_private`, run by ``files_to_bucket`` and checked by ``/health/``),
and a browser gets a file only through the app's own views, which check who asks, or through a
signed URL valid for ``FILES_SIGNED_URL_SECONDS`` (5 minutes). A file name in the database
never carries the schema: the active agency picks the prefix, so agency B can never open agency
A's file by guessing its name.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, default_storage
from storages.backends.s3 import S3Storage

from tenants.db import connection


class AgencyS3Storage(S3Storage):  # type: ignore[misc]  # django-storages has no types
    """Private S3 storage whose root is ``<location>/<active schema>``, like the local one."""

    base_location = ""
    querystring_auth = True  # url() is always signed ...
    querystring_expire = 300  # ... and short-lived
    file_overwrite = False  # a name that exists gets a suffix: nothing is silently replaced
    default_acl = None  # the bucket's own (private): never public-read

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        if self.querystring_auth is False or self.default_acl in (
            "public-read",
            "public-read-write",
        ):
            raise ImproperlyConfigured("Agency files are private: no unsigned URL, no public ACL.")

    @property
    def location(self) -> str:
        schema = connection.schema_name
        return posixpath.join(self.base_location, schema) if self.base_location else schema

    @location.setter
    def location(self, value: str) -> None:
        self.base_location = value.strip("/")


def walk(storage: Storage, path: str = "") -> Iterator[str]:
    """Every file name under ``path`` in ``storage`` (the active agency's), sorted."""
    directories, files = storage.listdir(path)
    for name in sorted(files):
        yield posixpath.join(path, name) if path else name
    for directory in sorted(directories):
        yield from walk(storage, posixpath.join(path, directory) if path else directory)


def agency_files() -> Iterator[str]:
    """The names of every file of the active agency (its whole prefix)."""
    return walk(default_storage)


def agency_files_delete() -> int:
    """Remove every file of the active agency (offboarding, a failed import); how many."""
    count = 0
    for name in list(agency_files()):
        default_storage.delete(name)
        count += 1
    return count


def s3_client(storage: S3Storage) -> Any:
    return storage.connection.meta.client


def bucket_make_private(storage: S3Storage) -> None:
    """Block every form of public access to the bucket (idempotent)."""
    s3_client(storage).put_public_access_block(
        Bucket=storage.bucket_name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


ALL_USERS = ("http://acs.amazonaws.com/groups/global/AllUsers",)
PUBLIC_GROUPS = (*ALL_USERS, "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


def bucket_privacy_problems(storage: S3Storage) -> list[str]:
    """What would make the bucket readable by anyone; empty when it is private."""
    client = s3_client(storage)
    problems = []
    try:
        block = client.get_public_access_block(Bucket=storage.bucket_name)[
            "PublicAccessBlockConfiguration"
        ]
    except client.exceptions.ClientError:
        block = {}
    missing = [
        key
        for key in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy")
        if not block.get(key)
    ]
    if missing:
        problems.append("public access not blocked: " + ", ".join(missing))
    grants = client.get_bucket_acl(Bucket=storage.bucket_name).get("Grants", [])
    if any(g.get("Grantee", {}).get("URI") in PUBLIC_GROUPS for g in grants):
        problems.append("the bucket's ACL grants access to everyone")
    return problems
