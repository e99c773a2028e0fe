"""Splitting a commune: the plan, the run into an existing or a new agency, what stays, old
codes that keep tracking (and the old host sending them on), isolation, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from desk import services as desk
from dossiers.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierProcess,
    DossierStatus,
    HandOver,
)
from lifecycle.submit import Applicant, dossier_lookup, dossier_submit
from procedures.models import AgencyProcedure, ProcedureVersion
from reorg import splits
from reorg.models import MergeStatus, Split
from reorg.tests.conftest import schema_fingerprint
from results.models import Rating
from tenants.context import agency_context
from tenants.models import Agency, AgencyEvent, AgencyStatus
from tests.files import pdf

pytestmark = pytest.mark.django_db
SHOP = "S-KD-001"


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def staying(world: Any, citizen: Any) -> Dossier:
    """A dossier of An Bình of another procedure (it stays)."""
    with agency_context(world.a):
        return dossier_submit(
            agency=world.a,
            procedure=AgencyProcedure.objects.get(code="S-MT-001"),
            applicant=Applicant.from_user(citizen),
            form_data={"facility_name": "Cơ sở Minh An", "facility_address": "Thôn 3"},
            files={0: [pdf("cam-ket.pdf")]},
        ).dossier


def officer_email(world: Any) -> str:
    return str(world.teams["xa-an-binh"].officer.email)


def test_the_dry_run_lists_what_moves_and_what_stays_and_changes_nothing(
    world: Any, staying: Dossier
) -> None:
    before = {s: schema_fingerprint(s) for s in (world.a.schema_name, world.c.schema_name)}
    plan = splits.split_plan(
        source=world.a,
        target=world.c,
        procedures=[SHOP],
        staff=[officer_email(world)],
        effective_on=today(),
    )
    assert plan["procedures"][0]["code"] == SHOP
    assert plan["rows"]["dossiers_dossier"] == 3
    assert plan["dossiers"] == {"received": 1, "in_processing": 1, "returned": 1}
    assert plan["dossiers_staying"] == 1
    assert plan["files"] == 3 * 2 + 1
    assert plan["rows"]["results_rating"] == 1
    assert plan["rows"]["desk_handover"] > 0
    assert "api_apikey" not in plan["rows"] and "audit_auditentry" not in plan["rows"]
    assert plan["staff"] == [{"email": officer_email(world), "roles": ["officer"]}]
    assert [c["code"] for c in plan["clashes"]["procedures"]] == [SHOP]
    assert plan["clashes"]["procedures"][0]["winner"] == "xa-hoa-binh"
    assert plan["clashes"]["mixed_rows"] == {}
    assert plan["clashes"]["held_by_staff_staying"] == []
    # the officer holding a dossier that moves, left behind, is named
    plan = splits.split_plan(
        source=world.a, target=world.c, procedures=[SHOP], effective_on=today()
    )
    assert plan["clashes"]["held_by_staff_staying"] == [officer_email(world)]
    assert not Split.objects.exists()
    assert {s: schema_fingerprint(s) for s in before} == before


def test_a_split_moves_procedures_dossiers_and_staff_and_the_rest_stays(
    world: Any, staying: Dossier
) -> None:
    outsider_before = schema_fingerprint(world.outsider.schema_name)
    b_before = schema_fingerprint(world.b.schema_name)
    with agency_context(world.a):
        src = {
            d.code: (
                d.status,
                d.due_date,
                d.counting_start,
                d.events.count(),
                HandOver.objects.filter(dossier=d).count(),
                sorted(doc.file.name for doc in d.documents.all()),
                d.lookup_secret,
            )
            for d in Dossier.objects.filter(procedure__code=SHOP)
        }
        staying_events = staying.events.count()
    split = splits.split_create(
        source=world.a,
        target=world.c,
        procedures=[SHOP],
        staff=[officer_email(world)],
        effective_on=today(),
        actor_email="ops@motcua.vn",
    )
    split = splits.split_run(split)
    assert split.status == MergeStatus.FINISHED, split.error
    assert split.verification["ok"] is True
    assert split.verification["tables"]["dossiers_dossier"]["target_rows"] == 3

    with agency_context(world.c):
        assert Dossier.objects.count() == 6
        for code, (status, due, start, events, handovers, files, secret) in src.items():
            d = Dossier.objects.get(code=code)
            assert (d.status, d.due_date, d.counting_start) == (status, due, start)
            assert d.events.count() == events
            assert HandOver.objects.filter(dossier=d).count() == handovers
            assert sorted(doc.file.name for doc in d.documents.all()) == files
            for name in files:
                assert default_storage.exists(name)
            assert dossier_lookup(code=code, secret=secret) == d
            assert d.procedure == AgencyProcedure.objects.get(code=SHOP)  # C's, the clash
        returned = Dossier.objects.get(code=world.dossiers["xa-an-binh"].done.code)
        assert Rating.objects.get(dossier=returned).score == 5
        assert ProcedureVersion.objects.filter(procedure=returned.procedure).count() == 2
        assert DossierDocument.objects.count() == 6 * 2

    with agency_context(world.a):
        # the source keeps its copies, ended as moved; the rest is as it was
        for code in src:
            d = Dossier.objects.get(code=code)
            assert d.status == DossierStatus.MOVED
            assert d.events.last().details == {"agency": "xa-hoa-binh"}
            assert DossierProcess.objects.get(dossier=d).assignee is None
        kept = Dossier.objects.get(pk=staying.pk)
        assert kept.status == DossierStatus.RECEIVED
        assert kept.events.count() == staying_events
        assert not AgencyProcedure.objects.get(code=SHOP).is_published
        assert AgencyProcedure.objects.get(code="S-MT-001").is_published

    officer = world.teams["xa-an-binh"].officer
    assert Membership.objects.get(user=officer, agency=world.c).roles == ["officer"]
    assert not Membership.objects.get(user=officer, agency=world.a).is_active
    receptionist = world.teams["xa-an-binh"].receptionist
    assert Membership.objects.get(user=receptionist, agency=world.a).is_active
    assert not Membership.objects.filter(user=receptionist, agency=world.c).exists()
    world.a.refresh_from_db()
    assert world.a.status == AgencyStatus.ACTIVE  # frozen during the run only
    assert AgencyEvent.objects.filter(agency=world.c, event="split_finished").exists()
    assert schema_fingerprint(world.outsider.schema_name) == outsider_before
    assert schema_fingerprint(world.b.schema_name) == b_before
    # verified again afterwards, against the digests taken before the source's copies ended
    assert splits.split_verify(split)["ok"] is True


def test_a_moved_dossier_is_finished_in_the_new_agency(world: Any) -> None:
    split = splits.split_create(
        source=world.a,
        target=world.c,
        procedures=[SHOP],
        staff=[officer_email(world)],
        effective_on=today(),
    )
    splits.split_run(split)
    moved = world.dossiers["xa-an-binh"].in_processing
    officer = world.teams["xa-an-binh"].officer
    leader = world.teams["xa-hoa-binh"].leader
    with agency_context(world.c):
        d = Dossier.objects.get(code=moved.code)
        desk.result_attach(dossier=d, actor=officer, file=pdf("gcn-3.pdf"), number="3/GCN")
        desk.dossier_forward(dossier=d, actor=officer, to=leader)
        desk.dossier_approve(dossier=d, actor=leader)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY


def test_a_split_into_a_new_agency_creates_it_and_copies_the_procedures(
    world: Any, staying: Dossier
) -> None:
    split = splits.split_create(
        source=world.a,
        target=None,
        new_target={"slug": "xa-an-binh-moi", "name": "Xã An Bình Mới", "code": "ABM"},
        procedures=[SHOP],
        staff=[officer_email(world)],
        effective_on=today(),
    )
    assert split.target.status == AgencyStatus.PROVISIONING
    split = splits.split_run(split)
    assert split.verification["ok"] is True
    new = Agency.objects.get(slug="xa-an-binh-moi")
    assert new.status == AgencyStatus.ACTIVE
    assert (new.province_code, new.kind) == (world.a.province_code, world.a.kind)
    with agency_context(new):
        assert list(AgencyProcedure.objects.values_list("code", flat=True)) == [SHOP]
        shop = AgencyProcedure.objects.get(code=SHOP)
        assert shop.published_version is not None
        assert shop.published_version.procedure_id == shop.pk
        assert Dossier.objects.count() == 3
        done = Dossier.objects.get(code=world.dossiers["xa-an-binh"].done.code)
        assert done.procedure_version.procedure_id == shop.pk
    with agency_context(world.a):
        assert Dossier.objects.exclude(status=DossierStatus.MOVED).count() == 1


def test_the_old_host_sends_old_receipts_of_moved_dossiers_on_and_keeps_the_rest(
    world: Any, staying: Dossier
) -> None:
    splits.split_run(
        splits.split_create(source=world.a, target=world.c, procedures=[SHOP], effective_on=today())
    )
    moved = world.dossiers["xa-an-binh"].received
    old = Client(HTTP_HOST="xa-an-binh.localhost")
    track = f"/tra-cuu/?ma={moved.code}&bi-mat={moved.lookup_secret}"
    response = old.get(track)
    assert response.status_code == 301
    assert response["Location"] == f"http://xa-hoa-binh.localhost{track}"
    followed = Client(HTTP_HOST="xa-hoa-binh.localhost").get(track)
    assert followed.status_code == 200 and moved.code in followed.content.decode()
    posted = old.post("/tra-cuu/", {"code": moved.code, "secret": moved.lookup_secret})
    assert posted.status_code == 303 and posted["Location"].endswith(track)
    # a wrong secret learns nothing (no redirect, the usual refusal)
    assert old.get(f"/tra-cuu/?ma={moved.code}&bi-mat=SAI0SAI0").status_code == 404
    # what stays answers on the old host as before; its site still serves
    kept = old.get(f"/tra-cuu/?ma={staying.code}&bi-mat={staying.lookup_secret}")
    assert kept.status_code == 200 and staying.code in kept.content.decode()
    assert old.get("/").status_code == 200
    # the staying dossier is not found through the new agency
    other = Client(HTTP_HOST="xa-hoa-binh.localhost")
    assert (
        other.get(f"/tra-cuu/?ma={staying.code}&bi-mat={staying.lookup_secret}").status_code == 404
    )


def test_rows_of_a_moving_and_a_staying_procedure_block_the_split(world: Any) -> None:
    with agency_context(world.a):
        other = AgencyProcedure.objects.get(code="S-MT-001")
        Dossier.objects.filter(pk=world.dossiers["xa-an-binh"].received.pk).update(
            procedure=other
        )  # a dossier of S-MT-001 pinned to a version of S-KD-001
    plan = splits.split_plan(
        source=world.a, target=world.c, procedures=["S-MT-001"], effective_on=today()
    )
    assert plan["clashes"]["mixed_rows"]
    before = schema_fingerprint(world.c.schema_name)
    with pytest.raises(ValidationError):
        splits.split_create(
            source=world.a, target=world.c, procedures=["S-MT-001"], effective_on=today()
        )
    assert not Split.objects.exists()
    assert schema_fingerprint(world.c.schema_name) == before


@pytest.mark.parametrize(
    "case",
    ["itself", "nothing", "unknown_procedure", "stranger", "no_date", "taken_slug", "busy"],
)
def test_bad_input_is_refused_and_nothing_is_done(world: Any, case: str) -> None:
    args: dict[str, Any] = {
        "source": world.a,
        "target": world.c,
        "procedures": [SHOP],
        "staff": [],
        "effective_on": today(),
    }
    if case == "itself":
        args["target"] = world.a
    elif case == "nothing":
        args["procedures"] = []
    elif case == "unknown_procedure":
        args["procedures"] = ["KHONG-CO"]
    elif case == "stranger":
        args["staff"] = [str(world.teams["xa-hoa-binh"].officer.email)]
    elif case == "no_date":
        args["effective_on"] = None
    elif case == "taken_slug":
        args["target"] = None
        args["new_target"] = {"slug": "xa-hoa-binh", "name": "Trùng"}
    elif case == "busy":
        splits.split_create(**args)
    count = Split.objects.count()
    agencies = Agency.objects.count()
    before = schema_fingerprint(world.a.schema_name)
    with pytest.raises(ValidationError) as exc:
        splits.split_create(**args)
    assert exc.value.messages[0]
    assert Split.objects.count() == count
    assert Agency.objects.count() == agencies
    assert schema_fingerprint(world.a.schema_name) == before


def test_events_of_the_source_are_never_rewritten(world: Any) -> None:
    """The source's history is append-only: its copies gain one event each, none changes."""
    with agency_context(world.a):
        before = list(DossierEvent.objects.order_by("id").values_list("id", "action", "at"))
    splits.split_run(
        splits.split_create(source=world.a, target=world.c, procedures=[SHOP], effective_on=today())
    )
    with agency_context(world.a):
        after = list(DossierEvent.objects.order_by("id").values_list("id", "action", "at"))
    assert after[: len(before)] == before
    assert [a for _i, a, _t in after[len(before) :]] == ["moved"] * 3


def test_figures_of_the_moved_procedures_from_the_date_are_the_target_s(
    world: Any, staying: Dossier
) -> None:
    from django.db.models import Sum

    from nationalsync.models import PortalOutbox
    from reports.models import DailyAgencyStat

    day = today()
    earlier = day - dt.timedelta(days=40)
    DailyAgencyStat.objects.create(
        agency=world.a, province_code="31", day=earlier, procedure_code=SHOP,
        sector="", metric="received", n=4, total=0,
    )  # fmt: skip

    def n(agency: Agency, code: str) -> int:
        rows = DailyAgencyStat.objects.filter(agency=agency, day=day, procedure_code=code)
        return int(rows.aggregate(n=Sum("n"))["n"] or 0)

    shop_a, shop_c, kept_a = n(world.a, SHOP), n(world.c, SHOP), n(world.a, "S-MT-001")
    assert shop_a and kept_a
    split = splits.split_create(
        source=world.a, target=world.c, procedures=[SHOP], effective_on=day - dt.timedelta(days=1)
    )
    splits.split_run(split)
    assert n(world.a, SHOP) == 0 and n(world.c, SHOP) == shop_a + shop_c
    assert n(world.a, "S-MT-001") == kept_a  # the procedure that stays keeps its figures
    assert DailyAgencyStat.objects.get(agency=world.a, day=earlier, procedure_code=SHOP).n == 4
    told = PortalOutbox.objects.get(key__startswith=f"split:{split.pk}:")
    assert told.payload["action"] == "agency_split"
    assert told.payload["procedures"] == [SHOP]
    assert told.payload["into"] == "xa-hoa-binh"
