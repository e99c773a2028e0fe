"""Merge fixtures: two communes (An Bình, Bình Minh) with dossiers in every stage, merged
into a third (Hòa Bình) that has dossiers of its own; a fourth commune outside the merge."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import pytest

from desk import services as desk
from desk.tests.conftest import SHOP_FORM, staff_of
from dossiers.models import Dossier, ReturnMethod
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from procedures.services import procedures_adopt_for_kind
from results.services import rating_submit
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency
from tests.files import pdf


def adopted(make_agency: Any, slug: str, name: str, code: str) -> Agency:
    agency = make_agency(slug, name=name, code=code)
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
    return agency


def submit(agency: Agency, citizen: Any) -> Dossier:
    with agency_context(agency):
        return dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf("don.pdf")], 1: [pdf("giay-phep.pdf")]},
        ).dossier


def populate(agency: Agency, citizen: Any, team: SimpleNamespace) -> SimpleNamespace:
    """A received dossier, one in processing (held by the officer), one returned and rated."""
    received = submit(agency, citizen)
    in_processing = submit(agency, citizen)
    done = submit(agency, citizen)
    with agency_context(agency):
        desk.dossier_claim(dossier=in_processing, actor=team.receptionist)
        desk.dossier_forward(dossier=in_processing, actor=team.receptionist)
        desk.dossier_claim(dossier=in_processing, actor=team.officer)
        desk.dossier_claim(dossier=done, actor=team.receptionist)
        desk.dossier_forward(dossier=done, actor=team.receptionist)
        desk.dossier_claim(dossier=done, actor=team.officer)
        desk.result_attach(dossier=done, actor=team.officer, file=pdf("gcn.pdf"), number="1/GCN")
        desk.dossier_forward(dossier=done, actor=team.officer, to=team.leader)
        desk.dossier_approve(dossier=done, actor=team.leader)
        desk.dossier_claim(dossier=done, actor=team.receptionist)
        desk.result_return(dossier=done, actor=team.receptionist, method=ReturnMethod.ELECTRONIC)
        rating_submit(dossier=Dossier.objects.get(pk=done.pk), user=citizen, score=5)
        return SimpleNamespace(
            received=Dossier.objects.get(pk=received.pk),
            in_processing=Dossier.objects.get(pk=in_processing.pk),
            done=Dossier.objects.get(pk=done.pk),
        )


@pytest.fixture
def world(make_agency: Any, national_catalog: None, citizen: Any) -> SimpleNamespace:
    a = adopted(make_agency, "xa-an-binh", "Xã An Bình", "AB")
    b = adopted(make_agency, "xa-binh-minh", "Xã Bình Minh", "BM")
    c = adopted(make_agency, "xa-hoa-binh", "Xã Hòa Bình", "HB")
    outsider = adopted(make_agency, "xa-ngoai", "Xã Ngoài", "NG")
    teams = {x.slug: staff_of(x, x.code.lower()) for x in (a, b, c, outsider)}
    dossiers = {x.slug: populate(x, citizen, teams[x.slug]) for x in (a, b, c, outsider)}
    return SimpleNamespace(a=a, b=b, c=c, outsider=outsider, teams=teams, dossiers=dossiers)


def schema_fingerprint(schema: str) -> dict[str, str]:
    """sha256 of every table's rows of a schema (to prove it was not touched)."""
    out: dict[str, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                "SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') "
                f'FROM "{schema}"."{table}" t'
            )
            out[table] = hashlib.sha256(cursor.fetchone()[0].encode()).hexdigest()
    return out
