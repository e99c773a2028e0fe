"""Adopting, configuring (formsets), publishing and unpublishing procedures through the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from audit.models import AuditEntry
from procedures import services
from procedures.models import AgencyProcedure, ProcedureField
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login


def configuration_post(procedure: AgencyProcedure, **settings: Any) -> dict[str, Any]:
    """What the configure page posts when nothing is changed (plus ``settings``)."""
    from tenants.models import Agency

    with agency_context(Agency.objects.get(slug="xa-an-binh")):
        return _configuration_post(procedure, **settings)


def _configuration_post(procedure: AgencyProcedure, **settings: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "settings-fee": procedure.fee,
        "settings-processing_days": procedure.processing_days,
        "settings-cutoff_hour": procedure.cutoff_hour,
    }
    if procedure.online_submission:
        data["settings-online_submission"] = "on"
    if procedure.online_payment:
        data["settings-online_payment"] = "on"
    components = list(procedure.components.all())
    data.update(
        {
            "components-TOTAL_FORMS": len(components),
            "components-INITIAL_FORMS": len(components),
        }
    )
    for i, c in enumerate(components):
        if c.required:
            data[f"components-{i}-required"] = "on"
        data[f"components-{i}-max_files"] = c.max_files
    extra = list(procedure.fields.filter(from_catalog=False))
    # The blank row is posted as a browser posts it: empty inputs, the select on "—".
    data.update(
        {
            "fields-TOTAL_FORMS": len(extra) + 1,
            "fields-INITIAL_FORMS": len(extra),
            f"fields-{len(extra)}-type": "",
            f"fields-{len(extra)}-key": "",
        }
    )
    for i, f in enumerate(extra):
        data.update(
            {
                f"fields-{i}-key": f.key,
                f"fields-{i}-label": f.label,
                f"fields-{i}-type": f.type,
                f"fields-{i}-ORDER": i + 1,
            }
        )
    steps = list(procedure.steps.all())
    data.update(
        {
            "steps-TOTAL_FORMS": len(steps) + 1,
            "steps-INITIAL_FORMS": len(steps),
            f"steps-{len(steps)}-role": "",
            f"steps-{len(steps)}-days": "",
            f"steps-{len(steps)}-ORDER": len(steps) + 1,  # JavaScript numbers every row
        }
    )
    for i, s in enumerate(steps):
        data.update(
            {
                f"steps-{i}-name": s.name,
                f"steps-{i}-role": s.role,
                f"steps-{i}-days": s.days,
                f"steps-{i}-ORDER": i + 1,
            }
        )
    for key, value in settings.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def shop(commune: Any) -> AgencyProcedure:
    with agency_context(commune):
        return AgencyProcedure.objects.get(code="S-KD-001")  # 3 days, steps 0+2+1


@pytest.mark.django_db
def test_the_list_shows_status_and_adopting_defaults_to_the_agency_kind(
    commune, admin_client: Client
) -> None:
    listing = admin_client.get("/quan-tri/thu-tuc/")
    assert listing.status_code == 200
    assert "S-HT-001" in listing.text and "status-published" in listing.text
    adopt = admin_client.get("/quan-tri/thu-tuc/them/")
    assert "S-TP-001" not in adopt.text  # a department's procedure, not offered by default
    everything = admin_client.get("/quan-tri/thu-tuc/them/", {"tat-ca": "1"})
    assert "S-TP-001" in everything.text and "S-HT-001" not in everything.text  # adopted already
    found = admin_client.get("/quan-tri/thu-tuc/them/", {"q": "ly lich tu phap"})
    assert "S-TP-001" in found.text and "S-YT-001" not in found.text
    response = admin_client.post("/quan-tri/thu-tuc/them/", {"code": ["S-TP-001"]})
    assert response.status_code == 302 and response["Location"] == "/quan-tri/thu-tuc/S-TP-001/"
    with agency_context(commune):
        adopted = AgencyProcedure.objects.get(code="S-TP-001")
        assert not adopted.is_published and adopted.steps.count() == 3
        assert AuditEntry.objects.filter(action="procedure.adopted", target="S-TP-001").exists()
    draft = admin_client.get("/quan-tri/thu-tuc/")
    assert "status-draft" in draft.text
    assert admin_client.post("/quan-tri/thu-tuc/them/", {}).status_code == 302  # nothing chosen


@pytest.mark.django_db
def test_adopt_every_procedure_of_the_agency_kind_at_once(
    make_agency, national_catalog, admin_user
) -> None:
    from accounts.services import membership_grant
    from catalog.models import CatalogProcedure

    agency = make_agency("xa-moi", name="Xã Mới")
    membership_grant(user=admin_user, agency=agency, roles=["admin"])
    client = Client(HTTP_HOST="xa-moi.localhost")
    mfa_login(client, admin_user)
    response = client.post("/quan-tri/thu-tuc/them/", {"all_for_kind": "1"})
    assert response.status_code == 302
    expected = set(
        CatalogProcedure.objects.filter(agency_kinds__contains=["commune"]).values_list(
            "code", flat=True
        )
    )
    with agency_context(agency):
        assert set(AgencyProcedure.objects.values_list("code", flat=True)) == expected
        assert not AgencyProcedure.objects.filter(is_published=True).exists()


@pytest.mark.django_db
def test_configure_with_formsets_add_remove_and_reorder_rows(commune, admin_client: Client) -> None:
    procedure = shop(commune)
    page = admin_client.get("/quan-tri/thu-tuc/S-KD-001/")
    assert page.status_code == 200
    assert 'name="steps-__prefix__-name"' in page.text  # the template row for JavaScript
    data = configuration_post(
        procedure,
        **{
            "settings-fee": "90000",
            "settings-processing_days": "2",
            "settings-cutoff_hour": "16",
            "settings-online_payment": "on",
            "components-2-required": "on",  # the optional component becomes required
            "components-2-max_files": "3",
            # a new extra field in the blank row
            "fields-0-key": "zalo",
            "fields-0-label": "Số Zalo liên hệ",
            "fields-0-type": "phone",
            # steps: remove "Ký duyệt", move "Thẩm định" first, add one in the blank row
            "steps-1-ORDER": "1",
            "steps-1-days": "1",
            "steps-0-ORDER": "2",
            "steps-2-DELETE": "on",
            "steps-3-name": "Trả kết quả",
            "steps-3-role": "receptionist",
            "steps-3-days": "1",
            "steps-3-ORDER": "3",
        },
    )
    response = admin_client.post("/quan-tri/thu-tuc/S-KD-001/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with agency_context(commune):
        procedure.refresh_from_db()
        assert (procedure.fee, procedure.processing_days, procedure.cutoff_hour) == (90000, 2, 16)
        assert procedure.online_payment and procedure.has_unpublished_changes
        assert [(s.name, s.days) for s in procedure.steps.all()] == [
            ("Thẩm định", 1),
            ("Tiếp nhận", 0),
            ("Trả kết quả", 1),
        ]
        assert [c.required for c in procedure.components.all()] == [True, True, True]
        assert procedure.components.all()[2].max_files == 3
        assert procedure.fields.filter(from_catalog=False).get().key == "zalo"
        # The published version is untouched until the admin publishes.
        assert procedure.published_version.spec.fee == 100000
    published = admin_client.post("/quan-tri/thu-tuc/S-KD-001/cong-bo/")
    assert published.status_code == 302
    with agency_context(commune):
        procedure.refresh_from_db()
        assert procedure.published_version.number == 2
        assert procedure.published_version.spec.fields[-1].key == "zalo"
    portal = Client(HTTP_HOST="xa-an-binh.localhost").get("/thu-tuc/S-KD-001/")
    assert "Trả kết quả" in portal.text and "90.000" in portal.text


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_bad_configuration_shows_messages_and_saves_nothing(commune, admin_client: Client) -> None:
    procedure = shop(commune)
    with agency_context(commune):
        before = services.procedure_spec(procedure).to_json()
    data = configuration_post(
        procedure,
        **{
            "settings-processing_days": "10",  # the law says 3
            "settings-online_submission": None,
            "settings-online_payment": "on",  # needs online submission
            "components-0-required": None,  # required by law
            "fields-0-key": "business_name",  # a catalog field's key
            "fields-0-label": "Trùng",
            "fields-0-type": "text",
        },
    )
    response = admin_client.post("/quan-tri/thu-tuc/S-KD-001/", data)
    assert response.status_code == 400
    text = response.content.decode()
    for message in (
        "cannot exceed the legal 3 working days",
        "Online payment needs online submission",
        "required by law and cannot be made optional",
        "already used",
        "nothing was saved",
    ):
        assert message in text, message
    # Malformed rows are refused by the form, next to the field.
    bad_rows = configuration_post(
        procedure,
        **{
            "fields-0-key": "Có Dấu",
            "fields-0-label": "x",
            "fields-0-type": "choice",
            "steps-0-days": "-1",
            "steps-1-role": "king",
        },
    )
    response = admin_client.post("/quan-tri/thu-tuc/S-KD-001/", bad_rows)
    assert response.status_code == 400
    text = response.content.decode()
    assert "lowercase letters" in text and "needs at least one choice" in text
    assert "greater than or equal to 0" in text and "Select a valid choice" in text
    # Every step removed: the process needs one.
    no_steps = configuration_post(procedure, **{f"steps-{i}-DELETE": "on" for i in range(3)})
    response = admin_client.post("/quan-tri/thu-tuc/S-KD-001/", no_steps)
    assert response.status_code == 400 and "at least one step" in response.content.decode()
    # A tampered component count is refused too.
    tampered = configuration_post(procedure, **{"components-TOTAL_FORMS": "2"})
    response = admin_client.post("/quan-tri/thu-tuc/S-KD-001/", tampered)
    assert response.status_code == 400
    with agency_context(commune):
        assert (
            services.procedure_spec(AgencyProcedure.objects.get(pk=procedure.pk)).to_json()
            == before
        )
        assert not AuditEntry.objects.filter(action="procedure.configured").exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_duplicate_extra_field_keys_are_refused_before_any_write(commune) -> None:
    """The old service wrote first and hit the unique constraint (a 500)."""
    with agency_context(commune):
        procedure = AgencyProcedure.objects.get(code="S-KD-001")
        components = [
            services.ComponentInput(c.name, c.required, c.max_files)
            for c in procedure.components.all()
        ]
        steps = [
            services.StepInput(s.name, s.role, s.days, s.transfer) for s in procedure.steps.all()
        ]
        fields_before = list(ProcedureField.objects.filter(procedure=procedure).values_list("key"))
        with pytest.raises(ValidationError) as exc:
            services.procedure_configure(
                procedure=procedure,
                fee=1,
                processing_days=3,
                cutoff_hour=17,
                online_submission=True,
                online_payment=False,
                components=components,
                extra_fields=[
                    services.FieldInput("zalo", "Zalo"),
                    services.FieldInput("zalo", "Zalo again"),
                ],
                steps=steps,
            )
        assert "extra_fields" in exc.value.message_dict
        assert "“zalo” is already used" in " ".join(exc.value.messages)
        procedure.refresh_from_db()
        assert procedure.fee == 100000
        assert (
            list(ProcedureField.objects.filter(procedure=procedure).values_list("key"))
            == fields_before
        )


@pytest.mark.django_db
def test_unpublish_takes_the_procedure_off_the_portal(
    commune, admin_client: Client, django_capture_on_commit_callbacks
) -> None:
    portal = Client(HTTP_HOST="xa-an-binh.localhost")
    assert portal.get("/thu-tuc/S-HT-001/").status_code == 200  # now in the page cache
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post("/quan-tri/thu-tuc/S-HT-001/ngung-cong-bo/").status_code == 302
    assert portal.get("/thu-tuc/S-HT-001/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post("/quan-tri/thu-tuc/S-HT-001/cong-bo/").status_code == 302
    assert portal.get("/thu-tuc/S-HT-001/").status_code == 200
    assert admin_client.get("/quan-tri/thu-tuc/KHONG-CO/").status_code == 404
