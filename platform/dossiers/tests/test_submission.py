"""Submitting a dossier: all or nothing, clear refusals, pinned version, codes and deadlines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from billing.models import Metric, UsageEvent
from dossiers.models import Dossier, DossierDocument, DossierEvent, DossierStatus
from lifecycle.submit import Applicant, dossier_lookup, dossier_submit
from procedures.models import AgencyProcedure
from procedures.services import procedure_unpublish
from tenants.context import agency_context
from tests.files import exe, pdf, png

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Bệnh viện Việt Tiệp",
}


def media_files(agency) -> set[str]:
    root = Path(default_storage.location)
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.django_db
def test_an_online_submission_writes_everything_once(commune, citizen) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        received = dt.datetime(2026, 11, 23, 9, 30, tzinfo=VN)  # a Monday morning
        result = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
            received_at=received,
        )
        dossier = result.dossier
        assert dossier.code == "AB-261123-0001"
        assert len(dossier.lookup_secret) == 8
        assert dossier.status == DossierStatus.RECEIVED
        assert dossier.procedure_version == birth.published_version
        assert dossier.due_date == dt.date(2026, 11, 23)  # 0 working days, before the cut-off
        assert dossier.form_data["child_sex"] == "Nam"
        docs = list(DossierDocument.objects.filter(dossier=dossier))
        assert [d.content_type for d in docs] == ["application/pdf", "image/png"]
        assert all(default_storage.exists(d.file.name) for d in docs)
        assert all(d.file.name.startswith(f"dossiers/2026/11/{dossier.pk}/") for d in docs)
        assert DossierEvent.objects.filter(dossier=dossier, action="received").count() == 1
    metrics = set(UsageEvent.objects.filter(agency=commune).values_list("metric", flat=True))
    assert metrics == {Metric.DOSSIER_RECEIVED, Metric.DOSSIER_ONLINE}


@pytest.mark.django_db
def test_codes_follow_the_day_and_the_cut_off_moves_the_deadline(commune, citizen) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")  # 3 working days, cut-off 16h?
        form = {
            f.key: "1" if f.type == "integer" else "Cửa hàng tạp hoá"
            for f in shop.published_version.spec.fields
        }
        files = {
            i: [pdf()] for i, c in enumerate(shop.published_version.spec.components) if c.required
        }
        friday_late = dt.datetime(2026, 11, 27, 23, 0, tzinfo=VN)
        a = dossier_submit(
            agency=commune,
            procedure=shop,
            applicant=Applicant.from_user(citizen),
            form_data=form,
            files=files,
            received_at=friday_late,
        ).dossier
        b = dossier_submit(
            agency=commune,
            procedure=shop,
            applicant=Applicant.from_user(citizen),
            form_data=form,
            files={i: [pdf()] for i in files},
            received_at=friday_late,
        ).dossier
        assert (a.code, b.code) == ("AB-261127-0001", "AB-261127-0002")
        assert a.counting_start == dt.date(2026, 11, 30)  # after the cut-off on a Friday: Monday
        assert a.due_date == dt.date(2026, 12, 3)


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_bad_input_is_refused_with_every_reason_and_nothing_is_kept(commune, citizen) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        before = media_files(commune)
        with pytest.raises(ValidationError) as exc:
            dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant(name="", id_number="12345"),
                form_data={"child_birth_date": "20/11/2026", "child_sex": "Khác"},
                files={0: [exe()], 2: [pdf(), pdf()]},
            )
        errors = exc.value.message_dict
        assert {"form.child_full_name", "form.child_birth_date", "form.child_sex"} <= set(errors)
        assert "applicant_name" in errors and "applicant_id_number" in errors
        assert any("not an accepted document" in m for m in errors["component_0"])
        assert any("is required" in m for m in errors["component_1"])
        assert any("at most 1 file" in m for m in errors["component_2"])
        assert not Dossier.objects.exists()
        assert media_files(commune) == before
    assert not UsageEvent.objects.exists()


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_oversize_and_path_tricks(commune, citizen, settings) -> None:
    settings.DOSSIER_MAX_FILE_BYTES = 2000
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        with pytest.raises(ValidationError) as exc:
            dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant.from_user(citizen),
                form_data=BIRTH_FORM,
                files={0: [pdf(size=5000)], 1: [pdf()]},
            )
        assert "the limit is" in " ".join(exc.value.message_dict["component_0"])
        result = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf("../../../etc/passwd.pdf")], 1: [pdf("C:\\x\\..\\a.pdf")]},
        )
        names = [d.original_name for d in result.dossier.documents.all()]
        assert names == ["passwd.pdf", "a.pdf"]
        for doc in result.dossier.documents.all():
            assert ".." not in doc.file.name and doc.file.name.endswith(".pdf")
            assert Path(default_storage.path(doc.file.name)).is_relative_to(
                default_storage.location
            )


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_an_unpublished_procedure_refuses_new_dossiers(commune, citizen) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        procedure_unpublish(procedure=birth)
        with pytest.raises(ValidationError, match="no longer offered"):
            dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant.from_user(citizen),
                form_data=BIRTH_FORM,
                files={0: [pdf()], 1: [pdf()]},
            )


@pytest.mark.django_db
def test_an_external_id_is_received_once(commune, citizen) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        kwargs = dict(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            channel="national_portal",
            external_id="DVCQG-000123",
        )
        first = dossier_submit(**kwargs, files={0: [pdf()], 1: [pdf()]})
        second = dossier_submit(**kwargs, files={0: [pdf()], 1: [pdf()]})
        assert first.created and not second.created
        assert first.dossier.pk == second.dossier.pk and Dossier.objects.count() == 1


@pytest.mark.django_db
def test_lookup_needs_code_and_secret(commune, citizen) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        dossier = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier
        assert (
            dossier_lookup(code=dossier.code.lower(), secret=dossier.lookup_secret.lower())
            == dossier
        )
        assert dossier_lookup(code=dossier.code, secret="WRONG234") is None
        assert dossier_lookup(code="AB-000000-9999", secret=dossier.lookup_secret) is None


@pytest.mark.django_db
@pytest.mark.parametrize("point", ["dossier.after_documents", "dossier.before_commit"])
def test_a_crash_mid_submission_leaves_nothing(commune, citizen, monkeypatch, point) -> None:
    from core.failpoints import FailpointError

    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        before = media_files(commune)
        monkeypatch.setenv("MOTCUA_FAILPOINTS", point)
        with pytest.raises(FailpointError):
            dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant.from_user(citizen),
                form_data=BIRTH_FORM,
                files={0: [pdf()], 1: [png()]},
            )
        assert not Dossier.objects.exists() and not DossierDocument.objects.exists()
        assert media_files(commune) == before
        monkeypatch.delenv("MOTCUA_FAILPOINTS")
        ok = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [png()]},
        )
        assert ok.dossier.code.endswith("-0001")  # the failed attempt used no number
    assert UsageEvent.objects.filter(agency=commune, metric=Metric.DOSSIER_RECEIVED).count() == 1


@pytest.mark.django_db
def test_a_draft_becomes_a_dossier_and_its_files_move(
    commune, citizen, django_capture_on_commit_callbacks
) -> None:
    from dossiers.models import DossierDraft
    from lifecycle.submit import draft_save

    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        draft = draft_save(
            user=citizen, procedure=birth, form_data=BIRTH_FORM, files={0: [pdf()], 1: [png()]}
        )
        draft_paths = [d.file.name for d in draft.documents.all()]
        assert all(default_storage.exists(p) for p in draft_paths)
        with django_capture_on_commit_callbacks(execute=True):
            result = dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant.from_user(citizen),
                form_data=draft.form_data,
                draft=draft,
            )
        assert [d.component_position for d in result.dossier.documents.all()] == [0, 1]
        assert all(default_storage.exists(d.file.name) for d in result.dossier.documents.all())
        assert not DossierDraft.objects.exists()
        assert not any(default_storage.exists(p) for p in draft_paths)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_applicant_details_are_checked_for_length_and_form_errors_keep_their_own_keys(
    commune, citizen
) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        with pytest.raises(ValidationError) as exc:
            dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant(name="A" * 201, phone="0" * 21, email="x", address="đ" * 301),
                form_data={},
                files={0: [pdf()], 1: [pdf()]},
            )
        errors = exc.value.message_dict
        assert errors["applicant_name"] == [
            "This is too long: at most 200 characters (it has 201)."
        ]
        assert {"applicant_phone", "applicant_email", "applicant_address"} <= set(errors)
        assert "form.child_full_name" in errors and "child_full_name" not in errors
        assert not Dossier.objects.exists()


@pytest.mark.django_db
def test_the_received_event_stores_the_channel_not_its_label(commune, citizen) -> None:
    from django.utils import translation

    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        with translation.override("vi"):
            dossier = dossier_submit(
                agency=commune,
                procedure=birth,
                applicant=Applicant.from_user(citizen),
                form_data=BIRTH_FORM,
                files={0: [pdf()], 1: [pdf()]},
                channel="national_portal",
            ).dossier
        event = DossierEvent.objects.get(dossier=dossier)
        assert event.note == "" and event.details == {"channel": "national_portal"}
        with translation.override("en"):
            assert event.summary == "National public service portal"
