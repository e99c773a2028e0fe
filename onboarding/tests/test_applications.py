"""Applications: validation of the admin unit and the admin e-mail, the state machine."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import membership_grant
from onboarding import services
from onboarding.models import Application, ApplicationEvent, ApplicationState
from onboarding.tests.conftest import apply_commune

S = ApplicationState


@pytest.mark.django_db
def test_a_commune_application_takes_its_name_province_and_slug_from_the_official_list(
    hp_communes: list[Any],
) -> None:
    commune = hp_communes[0]
    application = apply_commune(commune)
    assert application.name == commune.name
    assert application.province_code == "31"
    assert application.slug == f"{commune.codename.replace('_', '-')}-{commune.code}"
    assert application.state == S.SUBMITTED
    assert application.events.get().event == "submitted"


@pytest.mark.django_db
def test_a_department_is_validated_against_the_province_code() -> None:
    application = services.application_submit(
        kind="department",
        admin_unit_code="31",
        name="Sở Tư pháp",
        contact_name="A",
        contact_phone="1",
        admin_email="stp@example.vn",
    )
    assert application.slug == "so-tu-phap-hai-phong"
    with pytest.raises(ValidationError) as exc:
        services.application_submit(
            kind="department",
            admin_unit_code="99",
            name="Sở Tư pháp",
            contact_name="A",
            contact_phone="1",
            admin_email="x@example.vn",
        )
    assert "admin_unit_code" in exc.value.message_dict


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_unknown_and_duplicate_codes_and_taken_admin_emails_are_refused(
    hp_communes: list[Any], make_agency: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        apply_commune(hp_communes[0].__class__("99999", "x", "x", "31"))
    assert "is not an official commune or ward code" in str(exc.value.message_dict)

    apply_commune(hp_communes[0], email="one@example.vn")
    with pytest.raises(ValidationError) as exc:
        apply_commune(hp_communes[0], email="two@example.vn")
    assert "already has an agency or an open application" in str(exc.value.message_dict)

    with pytest.raises(ValidationError) as exc:
        apply_commune(hp_communes[1], email="ONE@example.vn")
    assert "already the administrator of another agency" in str(exc.value.message_dict)

    # An existing agency's admin cannot be the admin of a new one either.
    other = make_agency("phuong-khac")
    admin = User.objects.create_user("quantri@example.vn", None)
    membership_grant(user=admin, agency=other, roles=["admin"])
    with pytest.raises(ValidationError) as exc:
        apply_commune(hp_communes[2], email="quantri@example.vn")
    assert "admin_email" in exc.value.message_dict
    assert Application.objects.count() == 1  # nothing half-saved


@pytest.mark.django_db
def test_a_rejected_application_frees_its_unit(hp_communes: list[Any]) -> None:
    first = apply_commune(hp_communes[0], email="a@example.vn")
    with pytest.raises(ValidationError):
        services.application_reject(application=first, reason="  ")
    services.application_reject(application=first, reason="Hồ sơ thiếu", actor_email="s@x.vn")
    again = apply_commune(hp_communes[0], email="a@example.vn")
    assert again.state == S.SUBMITTED
    event = ApplicationEvent.objects.get(application=first, event="rejected")
    assert (event.from_state, event.to_state, event.actor_email) == (
        "submitted",
        "rejected",
        "s@x.vn",
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_allowed_and_refused_transitions(hp_communes: list[Any]) -> None:
    application = apply_commune(hp_communes[0])
    with pytest.raises(ValidationError, match="Only a failed or stuck application"):
        services.application_retry(application=application)
    with pytest.raises(ValidationError, match="cannot go from"):
        services._transition(application, S.LIVE)
    application = services.application_approve(application=application, start=False)
    assert application.state == S.APPROVED and application.approved_at is not None
    with pytest.raises(ValidationError, match="cannot go from"):
        services.application_reject(application=application, reason="late")
    with pytest.raises(ValidationError, match="cannot go from"):
        services.application_approve(application=application, start=False)
    application = services.application_pipeline_start(application=application, send=False)
    assert application.state == S.PROVISIONING
    for state in (S.CONFIGURING, S.LIVE, S.SUSPENDED, S.OFFBOARDED):
        application = services._transition(application, state)
    with pytest.raises(ValidationError, match="cannot go from"):
        services._transition(application, S.LIVE)
    history = list(application.events.order_by("id").values_list("from_state", "to_state"))
    assert history == [
        ("", "submitted"),
        ("submitted", "approved"),
        ("approved", "provisioning"),
        ("provisioning", "configuring"),
        ("configuring", "live"),
        ("live", "suspended"),
        ("suspended", "offboarded"),
    ]
