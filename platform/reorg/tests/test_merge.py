"""Merging communes: the plan, the run, the history and codes that survive, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import Membership
from desk import services as desk
from dossiers.models import Dossier, DossierDocument, DossierStatus, HandOver
from lifecycle.submit import dossier_lookup
from procedures.models import AgencyProcedure, ProcedureVersion
from reorg import services
from reorg.models import Merge, MergeStatus
from reorg.tests.conftest import schema_fingerprint
from results.models import Rating
from tenants.context import agency_context
from tenants.models import Agency, AgencyEvent, AgencyStatus

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def test_the_dry_run_lists_what_moves_and_what_clashes_and_changes_nothing(world: Any) -> None:
    with agency_context(world.a):
        AgencyProcedure.objects.filter(code="S-KD-001").update(fee=99_000, processing_days=2)
    before = schema_fingerprint(world.c.schema_name)
    plan = services.merge_plan(sources=[world.a, world.b], target=world.c, effective_on=today())
    first = plan["sources"][0]
    assert first["slug"] == "xa-an-binh"
    assert first["rows"]["dossiers_dossier"] == 3
    assert first["dossiers"] == {"received": 1, "in_processing": 1, "returned": 1}
    assert first["files"] == 3 * 2 + 1  # two documents per dossier, one result
    assert first["rows"]["results_rating"] == 1
    shop = next(p for p in plan["clashes"]["procedures"] if p["code"] == "S-KD-001")
    assert shop["winner"] == "xa-hoa-binh"
    assert {"fee", "processing_days"} <= set(shop["differs"])
    assert shop["sources"]["xa-an-binh"]["fee"] == 99_000
    assert shop["target"]["fee"] != 99_000
    assert plan["clashes"]["dossier_codes"] == []
    assert schema_fingerprint(world.c.schema_name) == before
    assert not Merge.objects.exists()


def test_a_merge_moves_every_dossier_with_its_history_and_touches_no_other_agency(
    world: Any, citizen: Any
) -> None:
    outsider_before = schema_fingerprint(world.outsider.schema_name)
    source_before = schema_fingerprint(world.a.schema_name)
    with agency_context(world.a):
        src = {
            d.code: (
                d.status,
                d.due_date,
                d.counting_start,
                d.events.count(),
                HandOver.objects.filter(dossier=d).count(),
                sorted(doc.file.name for doc in d.documents.all()),
            )
            for d in Dossier.objects.all()
        }
    merge = services.merge_create(sources=[world.a, world.b], target=world.c, effective_on=today())
    merge = services.merge_run(merge)
    assert merge.status == MergeStatus.FINISHED
    assert merge.verification["ok"] is True
    tables = merge.verification["sources"]["xa-an-binh"]
    assert tables["dossiers_dossier"]["target_rows"] == 3
    assert tables["dossiers_dossierevent"]["source_rows"] > 0

    with agency_context(world.c):
        assert Dossier.objects.count() == 9
        for code, (status, due, start, events, handovers, files) in src.items():
            d = Dossier.objects.get(code=code)
            assert (d.status, d.due_date, d.counting_start) == (status, due, start)
            assert d.events.count() == events
            assert HandOver.objects.filter(dossier=d).count() == handovers
            assert sorted(doc.file.name for doc in d.documents.all()) == files
            for name in files:
                assert default_storage.exists(name)  # the file, in C's storage
            # Old code + secret from the old receipt
            assert dossier_lookup(code=code, secret=d.lookup_secret) == d
            # a moved dossier points at C's own procedure (the clash: C's configuration wins)
            assert d.procedure == AgencyProcedure.objects.get(code=d.procedure.code)
        returned = Dossier.objects.get(code=world.dossiers["xa-an-binh"].done.code)
        assert Rating.objects.get(dossier=returned).score == 5
        assert returned.procedure_version.procedure_id == returned.procedure_id
        # the source's versions are kept, renumbered after C's
        assert ProcedureVersion.objects.filter(procedure=returned.procedure).count() == 3
        assert DossierDocument.objects.count() == 9 * 2

    for source in (world.a, world.b):
        source.refresh_from_db()
        assert source.status == AgencyStatus.MERGED
        assert source.merged_into == world.c
        assert not Membership.objects.filter(agency=source, is_active=True).exists()
    team = world.teams["xa-an-binh"]
    assert Membership.objects.get(user=team.officer, agency=world.c).roles == ["officer"]
    assert AgencyEvent.objects.filter(agency=world.c, event="merge_finished").exists()
    # The source's own schema is kept as it was (its history, its exit pack).
    assert schema_fingerprint(world.a.schema_name) == source_before
    assert schema_fingerprint(world.outsider.schema_name) == outsider_before
    assert Agency.objects.get(pk=world.outsider.pk).status == AgencyStatus.ACTIVE


def test_a_moved_dossier_in_progress_is_finished_by_the_target_s_officer(world: Any) -> None:
    merge = services.merge_create(sources=[world.a], target=world.c, effective_on=today())
    services.merge_run(merge)
    moved = world.dossiers["xa-an-binh"].in_processing
    team = world.teams["xa-an-binh"]  # the officer moved with the dossier
    leader = world.teams["xa-hoa-binh"].leader
    with agency_context(world.c):
        d = Dossier.objects.get(code=moved.code)
        assert d.due_date == moved.due_date
        desk.result_attach(dossier=d, actor=team.officer, file=_pdf(), number="2/GCN")
        desk.dossier_forward(dossier=d, actor=team.officer, to=leader)
        desk.dossier_approve(dossier=d, actor=leader)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY
        # New dossiers of C keep their own sequence: no id of a moved one is reused.
        ids = set(Dossier.objects.values_list("id", flat=True))
        assert len(ids) == 6


def _pdf() -> Any:
    from tests.files import pdf

    return pdf("gcn-2.pdf")


def test_a_dossier_code_the_target_already_uses_gets_a_suffix_and_the_old_code_still_works(
    world: Any,
) -> None:
    taken = world.dossiers["xa-hoa-binh"].received.code
    with agency_context(world.a):
        Dossier.objects.filter(pk=world.dossiers["xa-an-binh"].received.pk).update(code=taken)
        secret = Dossier.objects.get(code=taken).lookup_secret
    plan = services.merge_plan(sources=[world.a], target=world.c, effective_on=today())
    assert plan["clashes"]["dossier_codes"] == [{"code": taken, "source": "xa-an-binh"}]
    services.merge_run(
        services.merge_create(sources=[world.a], target=world.c, effective_on=today())
    )
    with agency_context(world.c):
        renamed = Dossier.objects.get(code=f"{taken}-AB")
        assert renamed.lookup_secret == secret
        # C's own dossier keeps the code; the alias serves the moved one only with its secret
        assert dossier_lookup(code=taken, secret=secret) is None or (
            dossier_lookup(code=taken, secret=secret) != renamed
        )
        assert dossier_lookup(code=f"{taken}-AB", secret=secret) == renamed


def test_the_source_s_settings_win_a_clash_when_chosen(world: Any) -> None:
    with agency_context(world.a):
        AgencyProcedure.objects.filter(code="S-KD-001").update(fee=77_000)
    merge = services.merge_create(
        sources=[world.a],
        target=world.c,
        effective_on=today(),
        choices={"S-KD-001": "xa-an-binh"},
    )
    services.merge_run(merge)
    with agency_context(world.c):
        assert AgencyProcedure.objects.get(code="S-KD-001").fee == 77_000
        assert AgencyProcedure.objects.get(code="S-KD-001").has_unpublished_changes


@pytest.mark.parametrize(
    "case",
    ["itself", "nothing", "no_date", "bad_choice", "unknown_code", "already_merged", "inactive"],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_done(world: Any, case: str) -> None:
    sources, target, choices = [world.a], world.c, {}
    date: Any = today()
    if case == "itself":
        sources = [world.c]
    elif case == "nothing":
        sources = []
    elif case == "no_date":
        date = None
    elif case == "bad_choice":
        choices = {"S-KD-001": "xa-ngoai"}
    elif case == "unknown_code":
        choices = {"KHONG-CO": "xa-an-binh"}
    elif case == "already_merged":
        services.merge_create(sources=[world.a], target=world.c, effective_on=today())
        target = world.b
    elif case == "inactive":
        from tenants.services import agency_set_status

        agency_set_status(agency=world.c, status=AgencyStatus.SUSPENDED)
    count = Merge.objects.count()
    before = schema_fingerprint(world.c.schema_name)
    with pytest.raises(ValidationError) as exc:
        services.merge_create(sources=sources, target=target, effective_on=date, choices=choices)
    assert exc.value.messages[0]
    assert Merge.objects.count() == count
    assert schema_fingerprint(world.c.schema_name) == before
    world.a.refresh_from_db()
    assert world.a.status == AgencyStatus.ACTIVE


def test_unknown_slugs_are_named() -> None:
    with pytest.raises(ValidationError) as exc:
        services.agencies_by_slug(["khong-co", "cung-khong"])
    assert "khong-co" in exc.value.messages[0]


def test_a_merge_into_a_new_agency_creates_it_and_moves_everything_there(world: Any) -> None:
    plan = services.merge_plan(
        sources=[world.a, world.b],
        target=None,
        new_target={"slug": "xa-an-hoa", "name": "Xã An Hòa", "code": "AH"},
        effective_on=today(),
    )
    assert plan["target"]["new"] is True
    assert plan["clashes"]["procedures"] == []  # nothing there yet to clash with
    between = {c["code"]: c for c in plan["clashes"]["between_sources"]}
    assert between["S-KD-001"]["winner"] == "xa-an-binh"  # both have it: the first one's
    assert not Agency.objects.filter(slug="xa-an-hoa").exists()  # the plan creates nothing
    merge = services.merge_create(
        sources=[world.a, world.b],
        target=None,
        new_target={"slug": "xa-an-hoa", "name": "Xã An Hòa", "code": "AH"},
        effective_on=today(),
    )
    assert merge.target.status == AgencyStatus.PROVISIONING
    merge = services.merge_run(merge)
    assert merge.status == MergeStatus.FINISHED and merge.verification["ok"] is True
    new = Agency.objects.get(slug="xa-an-hoa")
    assert new.status == AgencyStatus.ACTIVE
    assert (new.kind, new.province_code) == (world.a.kind, world.a.province_code)
    with agency_context(new):
        assert Dossier.objects.count() == 6
        shop = AgencyProcedure.objects.get(code="S-KD-001")  # A's copy; B's joined it
        assert Dossier.objects.filter(procedure=shop).count() == 6
        # B's versions are kept, numbered after A's
        numbers = sorted(
            ProcedureVersion.objects.filter(procedure=shop).values_list("number", flat=True)
        )
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 2
        for d in vars(world.dossiers["xa-binh-minh"]).values():
            assert dossier_lookup(code=d.code, secret=d.lookup_secret) is not None
    for source in (world.a, world.b):
        source.refresh_from_db()
        assert source.merged_into == new


def test_a_new_agency_s_address_must_be_free(world: Any) -> None:
    with pytest.raises(ValidationError):
        services.merge_create(
            sources=[world.a],
            target=None,
            new_target={"slug": "xa-hoa-binh", "name": "Trùng"},
            effective_on=today(),
        )
    assert not Merge.objects.exists()
