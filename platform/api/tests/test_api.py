"""The REST API through HTTP (Django test client on the agency host, real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import translation
from openapi_spec_validator import validate

from api.tests.conftest import APPLICANT, BIRTH_FORM, HOST, api_client, issue, submission
from billing.models import Metric, UsageEvent
from dossiers.models import Dossier, DossierDocument, DossierEvent
from procedures.models import AgencyProcedure
from procedures.services import procedure_unpublish
from tenants.context import agency_context
from tests.files import exe, pdf, png


def media_files(agency) -> set[str]:
    with agency_context(agency):
        root = Path(default_storage.location)
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.django_db
def test_openapi_document_is_valid_and_the_docs_are_served_locally(commune) -> None:
    anonymous = Client(HTTP_HOST=HOST)
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)  # raises on an invalid OpenAPI document
    assert {
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
        "/api/v1/procedures/{code}/dossiers",
        "/api/v1/dossiers/{code}",
        "/api/v1/inbound/dossiers",
    } <= set(document["paths"])
    submit = document["paths"]["/api/v1/procedures/{code}/dossiers"]["post"]
    assert "multipart/form-data" in submit["requestBody"]["content"]
    docs = anonymous.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "unpkg" not in docs.text.lower()
    asset = anonymous.get("/static/ninja/swagger-ui-bundle.js")
    assert asset.status_code == 200
    # Only agency hosts serve the API: the platform's own host does not.
    assert Client(HTTP_HOST="localhost").get("/api/v1/openapi.json").status_code == 404


@pytest.mark.django_db
def test_procedures_are_listed_with_components_fields_fees_and_time(commune, client) -> None:
    listing = client.get("/api/v1/procedures")
    assert listing.status_code == 200
    body = listing.json()
    codes = {p["code"] for p in body["items"]}
    assert "S-HT-001" in codes and "S-TP-001" not in codes  # a department's procedure
    assert body["count"] == len(body["items"])
    birth = next(p for p in body["items"] if p["code"] == "S-HT-001")
    assert birth["components"][0]["position"] == 0 and birth["components"][1]["required"]
    assert {f["key"] for f in birth["fields"]} >= set(BIRTH_FORM)
    assert "fee" in birth and "processing_days" in birth and "cutoff_hour" in birth
    searched = client.get("/api/v1/procedures", {"q": "khai sinh"}).json()
    assert [p["code"] for p in searched["items"]] == ["S-HT-001"]
    detail = client.get("/api/v1/procedures/S-HT-001")
    assert detail.status_code == 200 and detail.json()["steps"]
    unknown = client.get("/api/v1/procedures/KHONG-CO")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "procedure_unknown"
    with agency_context(commune):
        procedure_unpublish(procedure=AgencyProcedure.objects.get(code="S-HT-003"))
    gone = client.get("/api/v1/procedures/S-HT-003")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "procedure_unpublished"
    assert "S-HT-003" not in {p["code"] for p in client.get("/api/v1/procedures").json()["items"]}


@pytest.mark.django_db
def test_a_dossier_is_submitted_with_files_and_its_status_read(commune, client) -> None:
    response = client.post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM},
            component_0=pdf(),
            component_1=[png("giay-chung-sinh.png")],
        ),
    )
    assert response.status_code == 201, response.content
    receipt = response.json()
    assert receipt["code"].startswith("AB-") and len(receipt["lookup_secret"]) == 8
    assert receipt["created"] is True and receipt["status"] == "received"
    assert f"ma={receipt['code']}" in receipt["tracking_url"]
    with agency_context(commune):
        dossier = Dossier.objects.get(code=receipt["code"])
        assert dossier.channel == "online" and dossier.applicant_name == "Nguyễn Văn A"
        assert dossier.documents.count() == 2
        event = DossierEvent.objects.get(dossier=dossier)
        assert event.note == "" and event.details == {"channel": "online"}
        with translation.override("en"):
            assert event.summary == "Online"  # rendered in the reader's language
    assert UsageEvent.objects.filter(agency=commune, metric=Metric.DOSSIER_RECEIVED).count() == 1
    status = client.get(f"/api/v1/dossiers/{receipt['code'].lower()}")
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "received" and body["procedure_code"] == "S-HT-001"
    assert [e["action"] for e in body["history"]] == ["received"]
    assert [d["name"] for d in body["documents"]] == ["to-khai.pdf", "giay-chung-sinh.png"]
    missing = client.get("/api/v1/dossiers/AB-000000-9999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "dossier_unknown"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_keys_missing_bad_revoked_or_out_of_scope_are_refused(commune) -> None:
    from api.models import ApiKey
    from api.services import api_key_revoke

    none = api_client(None).get("/api/v1/procedures")
    assert none.status_code == 401 and none.json()["error"]["code"] == "not_authenticated"
    assert none["WWW-Authenticate"] == "Bearer"
    bad = api_client("mc_000000000000_not-a-real-secret").get("/api/v1/procedures")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "key_invalid"
    assert api_client("garbage").get("/api/v1/procedures").status_code == 401
    reader = issue(commune, ["procedures:read"])
    wrong_secret = reader[:-4] + "AAAA"
    assert api_client(wrong_secret).get("/api/v1/procedures").status_code == 401
    assert api_client(reader).get("/api/v1/procedures").status_code == 200
    refused = api_client(reader).post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission({"applicant": APPLICANT, "form": BIRTH_FORM}, component_0=pdf()),
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "scope_missing",
        "message": "This API key does not have the permission “dossiers:write”.",
    }
    assert api_client(reader).get("/api/v1/dossiers/AB-1").status_code == 403
    with agency_context(commune):
        key = ApiKey.objects.get(prefix=reader.split("_")[1])
        api_key_revoke(api_key=key)
    revoked = api_client(reader).get("/api/v1/procedures")
    assert revoked.status_code == 401
    assert revoked.json()["error"] == {
        "code": "key_revoked",
        "message": "This API key has been revoked.",
    }
    with agency_context(commune):
        assert not Dossier.objects.exists()


@pytest.mark.django_db
def test_an_agencys_key_never_works_on_another_agencys_host(commune, make_agency) -> None:
    from procedures.services import procedures_adopt_for_kind

    other = make_agency("xa-binh-an", name="Xã Bình An", code="BA")
    with agency_context(other):
        procedures_adopt_for_kind(agency=other, publish=True)
    key_a, key_b = issue(commune), issue(other)
    host_b = "xa-binh-an.localhost"
    created = api_client(key_a).post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM}, component_0=pdf(), component_1=pdf()
        ),
    )
    assert created.status_code == 201
    code = created.json()["code"]
    # A's key on B's host: unknown there, whatever it is allowed at home.
    assert api_client(key_a, host=host_b).get("/api/v1/procedures").status_code == 401
    assert api_client(key_a, host=host_b).get(f"/api/v1/dossiers/{code}").status_code == 401
    # B's own key on B's host cannot see A's dossier either.
    assert api_client(key_b, host=host_b).get(f"/api/v1/dossiers/{code}").status_code == 404
    assert api_client(key_b).get("/api/v1/procedures").status_code == 401
    with agency_context(other):
        assert not Dossier.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_bad_submissions_get_field_level_errors_and_nothing_is_saved(
    commune, client, settings
) -> None:
    settings.DOSSIER_MAX_FILE_BYTES = 4000
    before = media_files(commune)
    url = "/api/v1/procedures/S-HT-001/dossiers"

    def refused(payload: dict, status: int = 400) -> dict:
        response = client.post(url, payload)
        assert response.status_code == status, response.content
        return response.json()["error"]

    no_data = refused({"component_0": pdf()})
    assert no_data["code"] == "invalid" and no_data["fields"] == {
        "data": ["This field is required."]
    }
    assert "data" in refused(submission("{not json", component_0=pdf()))["fields"]
    shape = refused(submission({"applicant": "A", "form": [], "extra": 1}))["fields"]
    assert set(shape) == {"data.applicant", "data.form", "data.extra"}
    errors = refused(
        submission(
            {"applicant": {"name": "", "id_number": "12"}, "form": {"child_sex": "Khác"}},
            component_0=exe(),
            component_2=[pdf(), pdf()],
        )
    )["fields"]
    assert {"applicant.name", "applicant.id_number", "form.child_full_name"} <= set(errors)
    assert any("not an accepted document" in m for m in errors["component_0"])
    assert any("is required" in m for m in errors["component_1"])
    assert any("at most 1 file" in m for m in errors["component_2"])
    big = refused(
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM},
            component_0=pdf(size=9000),
            component_1=pdf(),
        )
    )["fields"]
    assert "the limit is" in " ".join(big["component_0"])
    stray = refused(
        submission({"applicant": APPLICANT, "form": BIRTH_FORM}, component_0=pdf(), other=pdf())
    )
    assert "documents" in stray["fields"]
    nowhere = refused(
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM}, component_0=pdf(), component_7=pdf()
        ),
    )["fields"]
    assert "documents" in nowhere
    # The defect found earlier: too-long applicant details were a 500, now a clear 400.
    too_long = refused(
        submission(
            {
                "applicant": {**APPLICANT, "name": "A" * 201, "address": "x" * 301},
                "form": BIRTH_FORM,
            },
            component_0=pdf(),
            component_1=pdf(),
        )
    )["fields"]
    assert too_long["applicant.name"] == ["This is too long: at most 200 characters (it has 201)."]
    assert "applicant.address" in too_long
    bad_email = refused(
        submission(
            {"applicant": {**APPLICANT, "email": "not-an-email"}, "form": BIRTH_FORM},
            component_0=pdf(),
            component_1=pdf(),
        )
    )["fields"]
    assert "applicant.email" in bad_email
    unknown = client.post(
        "/api/v1/procedures/KHONG-CO/dossiers", submission({"applicant": APPLICANT})
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "procedure_unknown"
    with agency_context(commune):
        procedure_unpublish(procedure=AgencyProcedure.objects.get(code="S-HT-001"))
    unpublished = refused(
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM}, component_0=pdf(), component_1=pdf()
        ),
        status=409,
    )
    assert unpublished["code"] == "procedure_unpublished"
    assert "no longer offered" in unpublished["message"]
    with agency_context(commune):
        assert not Dossier.objects.exists() and not DossierDocument.objects.exists()
    assert not UsageEvent.objects.exists()
    assert media_files(commune) == before


@pytest.mark.django_db
def test_path_tricks_in_file_names_are_stored_safely(commune, client) -> None:
    response = client.post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM},
            component_0=pdf("../../../etc/passwd.pdf"),
            component_1=pdf("C:\\x\\..\\a.pdf"),
        ),
    )
    assert response.status_code == 201
    with agency_context(commune):
        docs = list(Dossier.objects.get().documents.all())
        assert [d.original_name for d in docs] == ["passwd.pdf", "a.pdf"]
        for doc in docs:
            assert ".." not in doc.file.name and doc.file.name.endswith(".pdf")
            assert Path(default_storage.path(doc.file.name)).is_relative_to(
                default_storage.location
            )


@pytest.mark.django_db
def test_messages_follow_accept_language(commune, client) -> None:
    def message(language: str) -> str:
        response = client.post(
            "/api/v1/procedures/S-HT-001/dossiers",
            submission({"applicant": APPLICANT, "form": {}}, component_0=pdf(), component_1=pdf()),
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 400
        return " ".join(response.json()["error"]["fields"]["form.child_full_name"])

    english, vietnamese = message("en"), message("vi")
    assert "This field is required." in english
    assert vietnamese != english  # Vietnamese by default catalog (Django's own for this one)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_requests_past_a_keys_rate_limit_are_refused(commune) -> None:
    limited = api_client(issue(commune, ["procedures:read"], rate_limit_per_minute=2))
    assert limited.get("/api/v1/procedures").status_code == 200
    assert limited.get("/api/v1/procedures").status_code == 200
    third = limited.get("/api/v1/procedures")
    assert third.status_code == 429 and third.json()["error"]["code"] == "rate_limited"
    assert int(third["Retry-After"]) > 0


@pytest.mark.django_db
def test_a_form_field_named_like_an_applicant_detail_keeps_its_own_error(
    make_agency, national_catalog
) -> None:
    """S-TP-001 has a form field ``applicant_id_number``: its error and the applicant's
    are reported under different keys."""
    from procedures.services import procedures_adopt_for_kind
    from tenants.models import AgencyKind

    department = make_agency(
        "so-tu-phap", name="Sở Tư pháp", kind=AgencyKind.DEPARTMENT, code="STP"
    )
    with agency_context(department):
        procedures_adopt_for_kind(agency=department, publish=True)
    response = api_client(issue(department), host="so-tu-phap.localhost").post(
        "/api/v1/procedures/S-TP-001/dossiers",
        submission(
            {"applicant": {**APPLICANT, "id_number": "12"}, "form": {"purpose": "Xin việc"}},
            component_0=pdf(),
            component_1=pdf(),
        ),
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "applicant.id_number" in fields and "form.applicant_id_number" in fields
    assert fields["applicant.id_number"] != fields["form.applicant_id_number"]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_oversize_requests_are_refused_in_the_same_shape(commune, client, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    huge = client.post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission({"applicant": {**APPLICANT, "address": "x" * 2000}, "form": BIRTH_FORM}),
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    many = client.post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission(
            {"applicant": APPLICANT, "form": BIRTH_FORM},
            component_0=[pdf(), pdf()],
            component_1=[pdf(), pdf()],
        ),
    )
    assert many.status_code == 413 and many.json()["error"]["code"] == "too_large"
    with agency_context(commune):
        assert not Dossier.objects.exists()
