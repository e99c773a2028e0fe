"""Files in object storage: a real S3-speaking server on loopback (moto's server mode), spoken
to over HTTP by boto3 through django-storages, as production speaks to its bucket.

Each agency's files sit under its own prefix, the bucket is private (anonymous reads refused,
signed URLs short-lived), the app serves them, and ``files_to_bucket`` moves local files in:
resumable, idempotent, every object checked.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.management import CommandError, call_command

from api.tests.conftest import APPLICANT, BIRTH_FORM, api_client, issue, submission
from dossiers.models import Dossier
from tenants import storage
from tenants.context import agency_context
from tests.files import pdf, png
from tests.fixtures.s3 import s3_client


def _anonymous_get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db
def test_submitted_documents_go_to_the_agencys_prefix_in_a_private_bucket(
    s3_files, commune, agency_b
) -> None:
    scan = pdf("to-khai.pdf", size=4000)
    body = scan.read()
    scan.seek(0)
    response = api_client(issue(commune)).post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM},
            component_0=scan,
            component_1=[png("giay-chung-sinh.png")],
        ),
    )
    assert response.status_code == 201, response.content
    with agency_context(commune):
        dossier = Dossier.objects.get(code=response.json()["code"])
        names = [d.file.name for d in dossier.documents.order_by("component_position")]
        assert dossier.documents.get(component_position=0).file.read() == body
        url = default_storage.url(names[0])
    # The names in the database carry no schema: the active agency picks the prefix.
    assert s3_files.keys() == sorted(f"agencies/xa_an_binh/{name}" for name in names)
    assert s3_files.read(f"agencies/xa_an_binh/{names[0]}") == body
    key = f"agencies/xa_an_binh/{names[0]}"
    grants = s3_files.client.get_object_acl(Bucket=s3_files.name, Key=key)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)  # the owner only
    # Never public: the object's plain URL is refused; the signed one works and lasts 5 minutes.
    assert _anonymous_get(f"{s3_files.endpoint}/{s3_files.name}/{key}") == 403
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    assert urlsplit(url).path == f"/{s3_files.name}/{key}"
    with urllib.request.urlopen(url, timeout=10) as signed:
        assert signed.read() == body
    # Another agency cannot reach it by name.
    with agency_context(agency_b):
        assert not default_storage.exists(names[0])
        with pytest.raises(FileNotFoundError):
            default_storage.open(names[0])


@pytest.mark.django_db
def test_agency_storage_refuses_to_be_made_public(s3_files, settings) -> None:
    options = dict(settings.STORAGES["default"]["OPTIONS"])
    with pytest.raises(ImproperlyConfigured):
        storage.AgencyS3Storage(**options, default_acl="public-read")
    with pytest.raises(ImproperlyConfigured):
        storage.AgencyS3Storage(**options, querystring_auth=False)


@pytest.mark.django_db
def test_files_to_bucket_moves_local_files_resumably_and_checks_them(
    s3_files, agency_a, agency_b, tmp_path: Path, capsys
) -> None:
    media, packs = tmp_path / "media", tmp_path / "exit-packs"
    local = {
        "phuong_a/dossiers/2026/12/1/a1.pdf": b"%PDF-1.4 a1" * 500,
        "phuong_a/dossiers/2026/12/1/a2.png": b"\x89PNG a2",
        "phuong_a/branding/logo.png": b"\x89PNG logo",
        "phuong_b/dossiers/2026/12/7/b1.pdf": b"%PDF-1.4 b1",
    }
    for name, content in local.items():
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(content)
    packs.mkdir()
    (packs / "xa-cu-20261201-000000.zip").write_bytes(b"PK pack")
    (packs / ".exitpack-half-written.zip").write_bytes(b"PK half")  # being written: not copied
    expected = sorted(
        [f"agencies/{name}" for name in local] + ["exit-packs/xa-cu-20261201-000000.zip"]
    )
    args = ["--media-root", str(media), "--exit-packs", str(packs), "--jobs", "2"]

    assert storage.bucket_privacy_problems(storages["default"])  # a fresh bucket: not yet
    call_command("files_to_bucket", *args)
    out = capsys.readouterr().out
    assert "5/5 files" in out and "5 uploaded, 0 already there, 0 failed" in out
    assert s3_files.keys() == expected
    for name, content in local.items():
        head = s3_files.client.head_object(Bucket=s3_files.name, Key=f"agencies/{name}")
        assert head["Metadata"]["sha256"] == hashlib.sha256(content).hexdigest()
        assert s3_files.read(f"agencies/{name}") == content
    assert storage.bucket_privacy_problems(storages["default"]) == []  # public access blocked

    # The app reads a moved file under the name its row already holds.
    with agency_context(agency_a):
        assert (
            default_storage.open("dossiers/2026/12/1/a1.pdf").read()
            == local["phuong_a/dossiers/2026/12/1/a1.pdf"]
        )
    with agency_context(agency_b):
        assert not default_storage.exists("dossiers/2026/12/1/a1.pdf")

    # Again: nothing to do.
    call_command("files_to_bucket", *args)
    assert "0 uploaded, 5 already there, 0 failed" in capsys.readouterr().out

    # Interrupted half-way (one object never written, one cut short): a rerun repairs exactly
    # those two, and --verify-content downloads what it uploads to hash it again.
    s3_files.client.delete_object(Bucket=s3_files.name, Key="agencies/phuong_a/branding/logo.png")
    s3_files.client.put_object(
        Bucket=s3_files.name, Key="agencies/phuong_b/dossiers/2026/12/7/b1.pdf", Body=b"%PDF-1"
    )
    call_command("files_to_bucket", *args, "--verify-content")
    assert "2 uploaded, 3 already there, 0 failed" in capsys.readouterr().out
    assert s3_files.read("agencies/phuong_b/dossiers/2026/12/7/b1.pdf") == b"%PDF-1.4 b1"
    assert s3_files.keys() == expected
    assert all((media / name).is_file() for name in local)  # local files are never deleted


@pytest.mark.django_db
def test_files_to_bucket_refuses_without_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="FILES_S3_BUCKET"):
        call_command("files_to_bucket", "--media-root", str(tmp_path))


@pytest.mark.django_db
def test_a_logo_and_a_result_are_kept_in_the_bucket_too(s3_files, commune) -> None:
    from portal.branding import branding_update

    with agency_context(commune):
        branding_update(display_name="Xã An Bình", logo=png("logo.png"))
        saved = default_storage.save("results/ket-qua.pdf", ContentFile(b"%PDF-1.4 kq"))
    keys = s3_files.keys("agencies/xa_an_binh/")
    assert any(k.startswith("agencies/xa_an_binh/branding/logo") for k in keys)
    assert f"agencies/xa_an_binh/{saved}" in keys
    from django.test import Client

    logo = Client(HTTP_HOST="xa-an-binh.localhost").get("/logo.png")
    assert logo.status_code == 200 and b"".join(logo.streaming_content).startswith(b"\x89PNG")


def test_the_fixture_speaks_real_http(s3_server) -> None:
    client = s3_client(s3_server)
    assert isinstance(client.list_buckets()["Buckets"], list)
