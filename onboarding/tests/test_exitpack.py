"""Exit packs: a full round trip loses nothing; bad packs are refused and change nothing;
offboarding drops the schema only after a verified pack; suspended agencies still serve tracking."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Membership, User
from desk import services as desk
from desk.tests.conftest import SHOP_FORM, staff_of
from dossiers.models import Dossier, DossierDraft
from lifecycle.submit import Applicant, dossier_submit
from onboarding import exitpack
from onboarding.models import ExitPackRun
from onboarding.offboarding import (
    agency_offboard,
    agency_reactivate,
    agency_suspend,
    exit_pack_run_execute,
)
from procedures.models import AgencyProcedure
from tenants import schemas, storage
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency, AgencyEvent, AgencyStatus, Domain
from tests.files import pdf, png
from tests.fixtures.mfa import mfa_login


def _rows(agency: Agency) -> dict[str, list[str]]:
    """Every row of every tenant table of ``agency``, as JSON text, in primary-key order."""
    out: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for spec in exitpack.tenant_tables():
            source = exitpack._qualified(agency.schema_name, spec.table)
            cursor.execute(
                f"SELECT row_to_json(t)::text FROM {source} t ORDER BY t.{exitpack._q(spec.pk)}"
            )
            out[spec.table] = [row[0] for row in cursor.fetchall()]
    return out


def _files(agency: Agency) -> dict[str, bytes]:
    """Every stored file of ``agency`` (on local disk or in the bucket), by name."""
    with agency_context(agency):
        return {name: default_storage.open(name).read() for name in storage.agency_files()}


@pytest.fixture
def busy(commune: Agency, citizen: Any) -> Agency:
    """The commune with staff, an online and a desk dossier moved along the desk trail,
    a result document, branding with a logo and a calendar override."""
    from portal.branding import branding_update
    from workdays.services import calendar_override_set

    staff = staff_of(commune, "ab")
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        online = dossier_submit(
            agency=commune,
            procedure=shop,
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf("giay-phep.pdf", size=3000)]},
        ).dossier
        desk.desk_receive(
            agency=commune,
            actor=staff.receptionist,
            procedure=shop,
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf()]},
        )
        desk.dossier_claim(dossier=online, actor=staff.receptionist, expected_step=0)
        desk.dossier_forward(dossier=online, actor=staff.receptionist, note="Đủ thành phần")
        online.refresh_from_db()
        desk.dossier_claim(dossier=online, actor=staff.officer)
        desk.result_attach(dossier=online, actor=staff.officer, file=pdf("gcn.pdf"), number="1/GCN")
        branding_update(display_name="Xã An Bình", phone="0225000000", logo=png("logo.png"))
        calendar_override_set(
            date=dt.date(2026, 12, 26), is_working_day=True, reason="Làm bù", actor=staff.admin
        )
    return commune


@pytest.mark.django_db
def test_round_trip_loses_no_row_and_no_file(
    busy: Agency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exitpack, "PAGE", 3)  # rows are read in keyset pages: cross many
    pack = tmp_path / "an-binh.zip"
    steps: list[tuple[int, str]] = []
    info = exitpack.exit_pack_export(
        agency=busy, path=pack, progress=lambda p, s: steps.append((p, s))
    )
    assert steps[-1] == (100, "done") and [p for p, _ in steps] == sorted(p for p, _ in steps)
    manifest = exitpack.exit_pack_verify(path=pack)
    counts = {t["table"]: t["rows"] for t in manifest["tables"]}
    assert counts["dossiers_dossier"] == 2 and counts["desk_handover"] >= 2
    assert counts["portal_branding"] == 1 and counts["workdays_calendaroverride"] == 1
    assert counts["desk_resultdocument"] == 1 and counts["dossiers_dossierdocument"] == 4
    assert manifest["files"]["count"] >= 6 and info.sha256 and info.size == pack.stat().st_size
    public = {p["name"]: p["rows"] for p in manifest["public"]}
    assert public["agency"] == 1 and public["domains"] == 1 and public["memberships"] == 6
    assert public["users"] == 7 and public["agency_events"] >= 2

    target_media = Path(exitpack.agency_media_root(busy)).parent / "xa_an_binh_moi"
    shutil.rmtree(target_media, ignore_errors=True)
    call_command("exit_pack_import", str(pack), "--slug", "xa-an-binh-moi")
    copy = Agency.objects.get(slug="xa-an-binh-moi")
    assert copy.status == AgencyStatus.ACTIVE and copy.code == busy.code
    assert _rows(copy) == _rows(busy)  # every row of every tenant table, ids included
    assert _files(copy) == _files(busy) and len(_files(copy)) == manifest["files"]["count"]
    members = Membership.objects.order_by("user__email").values_list("user__email", "roles")
    assert list(members.filter(agency=copy)) == list(members.filter(agency=busy))
    assert AgencyEvent.objects.filter(agency=copy, event="imported").exists()
    # Sequences follow the loaded ids: new rows do not collide.
    with agency_context(copy):
        from workdays.services import calendar_override_set

        calendar_override_set(date=dt.date(2026, 12, 27), is_working_day=True, reason="Làm bù")
        dossier = Dossier.objects.order_by("pk").last()
        assert dossier is not None
        document = dossier.documents.first()
        assert document is not None and document.file.read()


@pytest.mark.django_db
def test_the_pack_of_one_agency_holds_nothing_of_another(
    busy: Agency, make_agency: Any, tmp_path: Path
) -> None:
    other = make_agency("phuong-b", name="Phường B")
    with agency_context(other):
        from portal.branding import branding_update

        branding_update(display_name="Phường B riêng", logo=png("b.png"))
    manifest = exitpack.exit_pack_export(agency=other, path=tmp_path / "b.zip").manifest
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        text = b"".join(zf.read(n) for n in zf.namelist())
    assert "Xã An Bình".encode() not in text and "Phường B riêng".encode() in text
    assert {t["table"]: t["rows"] for t in manifest["tables"]}["dossiers_dossier"] == 0


def _rewrite(source: Path, target: Path, change: Any) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        entries = {n: zin.read(n) for n in zin.namelist()}
        change(entries)
        for name, data in entries.items():
            zout.writestr(name, data)


def _with_manifest(entries: dict[str, bytes], **changes: Any) -> None:
    manifest = json.loads(entries["manifest.json"])
    for key, value in changes.items():
        if key == "migrations":
            manifest["schema"]["migrations"].append(value)
        else:
            manifest[key] = value
    entries["manifest.json"] = json.dumps(manifest).encode()


def _tamper(entries: dict[str, bytes]) -> None:
    name = next(n for n in entries if n.startswith("files/"))
    entries[name] = entries[name] + b"x"


def _future_column(entries: dict[str, bytes]) -> None:
    manifest = json.loads(entries["manifest.json"])
    table = next(t for t in manifest["tables"] if t["table"] == "dossiers_dossier")
    table["columns"].append("from_the_future")
    entries["manifest.json"] = json.dumps(manifest).encode()


def _unsafe(entries: dict[str, bytes]) -> None:
    manifest = json.loads(entries["manifest.json"])
    manifest["checksums"]["files/../../evil.sh"] = "0" * 64
    entries["files/../../evil.sh"] = b"echo"
    entries["manifest.json"] = json.dumps(manifest).encode()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_bad_packs_are_refused_and_change_nothing(busy: Agency, tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    exitpack.exit_pack_export(agency=busy, path=good)
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases = {
        garbage: "not a readable zip file",
        truncated: "not a readable zip file",
        tmp_path / "missing.zip": "does not exist",
    }
    variants = {
        "tampered": (_tamper, "is wrong: the pack is damaged"),
        "newer-schema": (
            lambda e: _with_manifest(e, migrations="dossiers.9999_from_the_future"),
            "comes from a newer version of the platform",
        ),
        "newer-format": (
            lambda e: _with_manifest(e, format_version=exitpack.FORMAT_VERSION + 1),
            "uses format version 2",
        ),
        "not-a-pack": (
            lambda e: _with_manifest(e, format="something-else"),
            "not a MotCua exit pack",
        ),
        "unsafe": (_unsafe, "unsafe file names"),
        "unknown-column": (_future_column, "has columns this platform does not know"),
        "no-manifest": (lambda e: e.pop("manifest.json"), "has no manifest.json"),
    }
    for name, (change, message) in variants.items():
        path = tmp_path / f"{name}.zip"
        _rewrite(good, path, change)
        cases[path] = message
    agencies = Agency.objects.count()
    users = User.objects.count()
    before = set(schemas.list_schemas())
    for path, message in cases.items():
        with pytest.raises(ValidationError) as caught:
            exitpack.exit_pack_import(path=path, slug="xa-moi")
        assert message in " ".join(caught.value.messages), (path.name, caught.value.messages)
        with pytest.raises(CommandError, match="exit pack"):
            call_command("exit_pack_import", str(path), "--slug", "xa-moi")
    # A slug already in use: refused too.
    with pytest.raises(ValidationError, match="already exists"):
        exitpack.exit_pack_import(path=good, slug=busy.slug)
    assert Agency.objects.count() == agencies and User.objects.count() == users
    assert set(schemas.list_schemas()) == before


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_load_failure_leaves_no_half_made_agency(busy: Agency, tmp_path: Path) -> None:
    """Valid checksums, but a row that breaks a constraint: all of it is rolled back."""
    good = tmp_path / "good.zip"
    exitpack.exit_pack_export(agency=busy, path=good)
    broken = tmp_path / "broken.zip"

    def duplicate_row(entries: dict[str, bytes]) -> None:
        import hashlib

        name = "tables/dossiers_dossier.jsonl"
        first = entries[name].split(b"\n")[0]
        entries[name] = entries[name] + first + b"\n"
        manifest = json.loads(entries["manifest.json"])
        manifest["checksums"][name] = hashlib.sha256(entries[name]).hexdigest()
        for table in manifest["tables"]:
            if table["file"] == name:
                table["rows"] += 1
        entries["manifest.json"] = json.dumps(manifest).encode()

    _rewrite(good, broken, duplicate_row)
    before = set(schemas.list_schemas())
    with pytest.raises(ValidationError, match="could not be loaded; nothing was changed"):
        exitpack.exit_pack_import(path=broken, slug="xa-hong")
    assert not Agency.objects.filter(slug="xa-hong").exists()
    assert not Domain.objects.filter(domain__startswith="xa-hong.").exists()
    assert set(schemas.list_schemas()) == before
    assert not exitpack.agency_media_root(Agency(schema_name="xa_hong")).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_offboarding_needs_a_suspended_agency_and_a_verified_pack(
    busy: Agency, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.zip"
    exitpack.exit_pack_export(agency=busy, path=pack)
    with pytest.raises(ValidationError, match="Suspend Xã An Bình before offboarding"):
        agency_offboard(agency=busy, pack=pack)
    agency_suspend(agency=busy, actor_email="ops@motcua.vn", reason="hết hợp đồng")
    damaged = tmp_path / "damaged.zip"
    _rewrite(pack, damaged, _tamper)
    with pytest.raises(ValidationError, match="damaged"):
        agency_offboard(agency=busy, pack=damaged)
    assert schemas.schema_exists(busy.schema_name)

    before = _rows(busy)
    files = _files(busy)
    agency = agency_offboard(agency=busy, pack=pack, actor_email="ops@motcua.vn")
    assert agency.status == AgencyStatus.OFFBOARDED
    assert not schemas.schema_exists(busy.schema_name)
    assert not Domain.objects.filter(tenant=busy).exists()
    event = AgencyEvent.objects.get(agency=busy, event="offboarded")
    assert event.detail["pack_sha256"] == exitpack._file_sha256(pack)
    assert event.actor_email == "ops@motcua.vn"
    # The pack is the archive: it brings everything back (into a folder no earlier run left
    # files in: those would be the copy's too).
    shutil.rmtree(
        exitpack.agency_media_root(Agency(schema_name="xa_an_binh_2")), ignore_errors=True
    )
    copy = exitpack.exit_pack_import(path=pack, slug="xa-an-binh-2")
    assert _rows(copy) == before and _files(copy) == files


@pytest.mark.django_db
def test_export_run_reports_progress_and_offboards(
    busy: Agency, settings: Any, tmp_path: Path
) -> None:
    settings.EXIT_PACK_ROOT = tmp_path
    agency_suspend(agency=busy)
    run = ExitPackRun.objects.create(agency=busy, offboard=True, actor_email="ops@motcua.vn")
    run = exit_pack_run_execute(run_id=run.pk)
    assert (run.status, run.percent, run.error) == ("finished", 100, "")
    assert Path(run.path).is_file() and run.sha256 == exitpack._file_sha256(Path(run.path))
    busy.refresh_from_db()
    assert busy.status == AgencyStatus.OFFBOARDED


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_suspended_agency_tracks_but_takes_no_new_dossier_over_http(
    commune: Agency, citizen: Any, tmp_path: Path
) -> None:
    staff_user = User.objects.create_user("ops@motcua.vn", "x", is_staff=True)
    console = Client(HTTP_HOST="localhost")
    mfa_login(console, staff_user)
    with agency_context(commune):
        dossier = dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier
    page = console.post(
        f"/console/agencies/{commune.pk}/suspend/", {"reason": "nợ phí"}, follow=True
    )
    assert page.status_code == 200 and "suspended" in page.content.decode()
    commune.refresh_from_db()
    assert commune.status == AgencyStatus.SUSPENDED

    portal = Client(HTTP_HOST="xa-an-binh.localhost")
    tracked = portal.post("/tra-cuu/", {"code": dossier.code, "secret": dossier.lookup_secret})
    assert tracked.status_code == 200 and dossier.code in tracked.content.decode()
    portal.force_login(citizen)
    mine = portal.get(f"/ho-so-cua-toi/{dossier.code}/")
    assert mine.status_code == 200 and dossier.code in mine.content.decode()
    saved = portal.post(
        "/thu-tuc/S-HT-001/nop/",
        {
            "applicant_name": "Nguyễn Văn A",
            "applicant_id_number": "031095001234",
            "applicant_phone": "0912345678",
            "applicant_address": "Xã An Bình",
            "f_child_full_name": "Nguyễn Văn B",
            "f_child_birth_date": "2026-11-20",
            "f_child_sex": "Nam",
            "f_birth_place": "Trạm y tế xã",
            "component_0": pdf(),
            "action": "save",
        },
    )
    assert saved.status_code == 302
    with agency_context(commune):
        draft = DossierDraft.objects.get()
    refused = portal.post(f"/nop-ho-so/{draft.pk}/xem-lai/", follow=True)
    assert "is not accepting new online dossiers" in refused.content.decode()
    with agency_context(commune):
        assert Dossier.objects.count() == 1

    console.post(f"/console/agencies/{commune.pk}/reactivate/", follow=True)
    commune.refresh_from_db()
    assert commune.status == AgencyStatus.ACTIVE
    assert list(
        AgencyEvent.objects.filter(agency=commune, event="status_changed")
        .order_by("pk")
        .values_list("detail__new", flat=True)
    ) == ["suspended", "active"]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_export_command_and_console_pages(busy: Agency, tmp_path: Path) -> None:
    pack = tmp_path / "cmd.zip"
    call_command("exit_pack_export", busy.slug, str(pack))
    assert exitpack.exit_pack_verify(path=pack)["agency"]["slug"] == busy.slug
    with pytest.raises(CommandError, match="No agency"):
        call_command("exit_pack_export", "khong-co", str(pack))
    staff_user = User.objects.create_user("ops@motcua.vn", "x", is_staff=True)
    console = Client(HTTP_HOST="localhost")
    mfa_login(console, staff_user)
    page = console.post(f"/console/agencies/{busy.pk}/exit-pack/", {"offboard": "1"}, follow=True)
    assert "Suspend Xã An Bình before offboarding" in page.content.decode()
    page = console.post(f"/console/agencies/{busy.pk}/exit-pack/", follow=True)
    run = ExitPackRun.objects.get(agency=busy)
    assert page.status_code == 200 and run.status == "queued"
    progress = console.get(f"/console/exit-packs/{run.pk}/progress.json").json()
    assert progress["state"] == "queued" and progress["finished"] is False
    officer = Client(HTTP_HOST="localhost")
    officer.force_login(User.objects.create_user("someone@example.vn", "x"))
    assert officer.get(f"/console/agencies/{busy.pk}/").status_code in (302, 403)


@pytest.mark.django_db(transaction=True)
def test_the_console_export_runs_on_the_worker_and_offboards(
    worker: Any, make_agency: Any, citizen: Any
) -> None:
    import time

    from onboarding.offboarding import exit_pack_run_request

    agency = make_agency("xa-roi-di", name="Xã Rời Đi")
    shutil.rmtree(exitpack.agency_media_root(agency), ignore_errors=True)  # earlier runs' files
    with agency_context(agency):
        from portal.branding import branding_update

        branding_update(display_name="Xã Rời Đi", logo=png("logo.png"))
    agency_suspend(agency=agency, actor_email="ops@motcua.vn")
    run = exit_pack_run_request(agency=agency, offboard=True, actor_email="ops@motcua.vn")
    deadline = time.monotonic() + 120
    while run.status not in ("finished", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        run.refresh_from_db()
    try:
        assert run.status == "finished", run.error
        agency.refresh_from_db()
        assert agency.status == AgencyStatus.OFFBOARDED
        assert not schemas.schema_exists(agency.schema_name)
        manifest = exitpack.exit_pack_verify(path=run.path)
        assert manifest["files"]["count"] == 1
        assert not exitpack.agency_media_root(agency).exists()
    finally:
        Path(run.path).unlink(missing_ok=True)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_suspend_reactivate_and_offboard_follow_the_application(
    make_agency: Any, tmp_path: Path, payer: Any
) -> None:
    from billing.accounts import subscription_start
    from billing.models import Subscription
    from onboarding.models import Application, ApplicationState

    agency = make_agency("xa-don", name="Xã Đơn")
    application = Application.objects.create(
        kind="commune",
        province_code="31",
        admin_unit_code="11311",
        name="Xã Đơn",
        slug="xa-don",
        contact_name="Nguyễn Văn B",
        contact_phone="0912000000",
        admin_email="admin.don@example.vn",
        state=ApplicationState.LIVE,
        agency=agency,
    )
    with pytest.raises(ValidationError, match="cannot go from"):
        agency_reactivate(agency=agency)
    agency = agency_suspend(agency=agency, actor_email="ops@motcua.vn", reason="nợ phí")
    application.refresh_from_db()
    assert (agency.status, application.state) == (
        AgencyStatus.SUSPENDED,
        ApplicationState.SUSPENDED,
    )
    agency = agency_reactivate(agency=agency)
    application.refresh_from_db()
    assert (agency.status, application.state) == (AgencyStatus.ACTIVE, ApplicationState.LIVE)
    agency = agency_suspend(agency=agency)
    subscription_start(agency=agency, billing_account=payer, starts_on=dt.date(2026, 11, 1))
    pack = tmp_path / "don.zip"
    exitpack.exit_pack_export(agency=agency, path=pack)
    agency = agency_offboard(agency=agency, pack=pack, actor_email="ops@motcua.vn")
    application.refresh_from_db()
    assert application.state == ApplicationState.OFFBOARDED
    assert Subscription.objects.get(agency=agency).ends_on is not None  # billing stops
    assert application.events.filter(to_state="offboarded").exists()
    with pytest.raises(ValidationError, match="cannot go from"):
        agency_reactivate(agency=agency)
    # Another agency's pack is refused for offboarding.
    other = agency_suspend(agency=make_agency("xa-khac", name="Xã Khác"))
    with pytest.raises(ValidationError, match="belongs to another agency"):
        agency_offboard(agency=other, pack=pack)
    assert schemas.schema_exists(other.schema_name)


@pytest.mark.django_db
def test_export_memory_stays_bounded_whatever_the_size(make_agency: Any, tmp_path: Path) -> None:
    """40,000 rows (~40 MB of JSON) are exported with a peak of a few MB of Python memory."""
    import tracemalloc

    agency = make_agency("xa-lon", name="Xã Lớn")
    with agency_context(agency), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (created_at, action, target, detail) "
            "SELECT now(), 'load.test', 'x' || g, jsonb_build_object('pad', repeat('a', 1000)) "
            "FROM generate_series(1, 40000) g"
        )
    tracemalloc.start()
    try:
        info = exitpack.exit_pack_export(agency=agency, path=tmp_path / "lon.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows = {t["table"]: t["rows"] for t in info.manifest["tables"]}
    assert rows["audit_auditentry"] >= 40000
    with zipfile.ZipFile(info.path) as zf:
        assert zf.getinfo("tables/audit_auditentry.jsonl").file_size > 40_000_000
    print(f"exit pack: 40k rows, peak {peak / 1e6:.1f} MB")
    assert peak < 12_000_000, peak


@pytest.mark.django_db
def test_round_trip_through_the_bucket(s3_files: Any, busy: Agency, tmp_path: Path) -> None:
    """With the files in object storage, the pack reads them from the agency's prefix and an
    import writes them under the new agency's own prefix."""
    stored = s3_files.keys("agencies/xa_an_binh/")
    local = exitpack.agency_media_root(busy)
    assert len(stored) >= 6
    assert not any((local / k.removeprefix("agencies/xa_an_binh/")).exists() for k in stored)
    pack = tmp_path / "an-binh.zip"
    manifest = exitpack.exit_pack_export(agency=busy, path=pack).manifest
    assert manifest["files"]["count"] == len(stored)
    copy = exitpack.exit_pack_import(path=pack, slug="xa-an-binh-moi")
    assert _files(copy) == _files(busy) and len(_files(copy)) == len(stored)
    assert [
        k.removeprefix("agencies/xa_an_binh_moi/")
        for k in s3_files.keys("agencies/xa_an_binh_moi/")
    ] == [k.removeprefix("agencies/xa_an_binh/") for k in stored]


@pytest.mark.django_db
def test_export_run_keeps_the_pack_in_the_bucket_then_offboards(
    s3_files: Any,
    busy: Agency,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EXIT_PACK_ROOT = tmp_path
    agency_suspend(agency=busy)
    run = ExitPackRun.objects.create(agency=busy, offboard=True, actor_email="ops@motcua.vn")
    with django_capture_on_commit_callbacks(execute=True):
        run = exit_pack_run_execute(run_id=run.pk)
    assert (run.status, run.error) == ("finished", "")
    prefix = f"s3://{s3_files.name}/exit-packs/"
    assert run.path.startswith(prefix), run.path
    key = "exit-packs/" + run.path.removeprefix(prefix)
    assert s3_files.keys("exit-packs/") == [key]
    assert list(tmp_path.iterdir()) == []  # the worker's working copy is gone
    copy = tmp_path / "downloaded.zip"
    copy.write_bytes(s3_files.read(key))
    assert exitpack._file_sha256(copy) == run.sha256
    assert exitpack.exit_pack_verify(path=copy)["files"]["count"] >= 6
    busy.refresh_from_db()
    assert busy.status == AgencyStatus.OFFBOARDED
    assert s3_files.keys("agencies/xa_an_binh/") == []  # its files went with its schema


@pytest.mark.django_db
def test_a_pack_kept_in_the_bucket_is_downloaded_and_restored_from_the_console(
    s3_files: Any,
    busy: Agency,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The console's download and restore buttons, and the import command, take a pack that
    only the bucket holds (the worker's copy is gone); a changed object is refused."""
    settings.EXIT_PACK_ROOT = tmp_path
    run = ExitPackRun.objects.create(agency=busy, actor_email="ops@motcua.vn")
    run = exit_pack_run_execute(run_id=run.pk)
    assert run.path.startswith("s3://") and list(tmp_path.iterdir()) == []
    key = "exit-packs/" + run.path.removeprefix(f"s3://{s3_files.name}/exit-packs/")
    stored = s3_files.read(key)

    staff = User.objects.create_user("ops@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    console = mfa_login(Client(HTTP_HOST="localhost"), staff)
    download = console.get(f"/console/exit-packs/{run.pk}/download/")
    assert download.status_code == 200, download
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == stored
    assert AgencyEvent.objects.filter(agency=busy, event="exit_pack_downloaded").exists()

    restored = console.post(
        f"/console/exit-packs/{run.pk}/restore/", {"slug": "xa-an-binh-tu-kho"}, follow=True
    )
    assert restored.status_code == 200
    copy = Agency.objects.get(slug="xa-an-binh-tu-kho")
    assert _rows(copy) == _rows(busy)
    assert list(tmp_path.iterdir()) == []  # the fetched copy is not left behind

    call_command("exit_pack_import", run.path, "--slug", "xa-an-binh-lenh")
    assert _rows(Agency.objects.get(slug="xa-an-binh-lenh")) == _rows(busy)

    # Someone changes the object in the bucket: restore refuses with a message, makes nothing.
    s3_files.client.put_object(Bucket=s3_files.name, Key=key, Body=stored + b"extra")
    refused = console.post(
        f"/console/exit-packs/{run.pk}/restore/", {"slug": "xa-an-binh-doi"}, follow=True
    )
    with translation.override("vi"):
        changed = gettext("The stored exit pack differs from the one exported; it was not used.")
        unavailable = gettext("This exit pack is not available any more (not finished, or moved).")
    assert [str(m) for m in refused.context["messages"]] == [changed]
    assert not Agency.objects.filter(slug="xa-an-binh-doi").exists()
    # A pack the bucket no longer holds: the clear message, not a 500.
    s3_files.client.delete_object(Bucket=s3_files.name, Key=key)
    gone = console.get(f"/console/exit-packs/{run.pk}/download/", follow=True)
    assert [str(m) for m in gone.context["messages"]] == [unavailable]
    assert not Agency.objects.filter(slug="xa-an-binh-doi").exists()
    with pytest.raises(CommandError):
        call_command("exit_pack_import", run.path, "--slug", "xa-an-binh-mat")
