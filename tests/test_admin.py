"""Django's admin never changes agencies, schema states or trails behind the services' back.

Every model registered in the admin is decided here: read-only (shown, never added, changed
or deleted from the admin), or changed through a service that records the change (people).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from accounts.models import AccountEvent, User
from tenants.models import Agency, AgencyEvent, SchemaState
from tests.fixtures.mfa import mfa_login

READ_ONLY = {
    "tenants.Agency",
    "tenants.SchemaState",
    "tenants.AgencyEvent",
    "accounts.AccountEvent",
    "account.EmailAddress",
    "mfa.Authenticator",
    "socialaccount.SocialAccount",  # a VNeID link, made only by the person's own sign-in
    "billing.WebhookEvent",
    "billing.MeterEventOutbox",
    "billing.GatewayObject",
    "billing.Overpayment",  # resolved on the console's billing page, through the service
}
THROUGH_SERVICES = {"accounts.User"}


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser("root@motcua.vn", "mat-khau-rat-dai-1")


@pytest.fixture
def staff(root: User) -> Client:
    client = Client(HTTP_HOST="localhost")
    mfa_login(client, root)
    return client


def admin_url(label: str, view: str, *args: Any) -> str:
    app_label, model = label.lower().split(".")
    return reverse(f"admin:{app_label}_{model}_{view}", args=args, urlconf="config.urls_public")


def test_every_registered_model_admin_is_decided() -> None:
    registered = {model._meta.label for model in admin.site._registry}
    assert registered == READ_ONLY | THROUGH_SERVICES
    assert "auth.Group" not in registered  # staff are is_staff/is_superuser; groups are unused


@pytest.mark.parametrize("label", sorted(READ_ONLY | THROUGH_SERVICES))
def test_the_admin_adds_nothing(staff: Client, label: str) -> None:
    from django.apps import apps

    model = apps.get_model(label)
    before = model._default_manager.count()
    response = staff.post(admin_url(label, "add"), {"name": "Thêm tay", "email": "x@example.vn"})
    assert response.status_code == 403
    assert model._default_manager.count() == before


def _agency(agency_a: Agency, root: User) -> Model:
    return agency_a


def _schema_state(agency_a: Agency, root: User) -> Model:
    return SchemaState.objects.get(schema_name=agency_a.schema_name)


def _agency_event(agency_a: Agency, root: User) -> Model:
    return AgencyEvent.objects.filter(agency=agency_a).first()  # type: ignore[return-value]


def _email_address(agency_a: Agency, root: User) -> Model:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.create(user=root, email=root.email, verified=False, primary=True)


def _authenticator(agency_a: Agency, root: User) -> Model:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.get(user=root)


OBJECTS: dict[str, Callable[[Agency, User], Model]] = {
    "tenants.Agency": _agency,
    "tenants.SchemaState": _schema_state,
    "tenants.AgencyEvent": _agency_event,
    "account.EmailAddress": _email_address,
    "mfa.Authenticator": _authenticator,
}


@pytest.mark.parametrize("label", sorted(OBJECTS))
def test_a_read_only_admin_page_shows_but_refuses_change_and_delete(
    staff: Client, root: User, agency_a: Agency, label: str
) -> None:
    obj = OBJECTS[label](agency_a, root)
    model = type(obj)
    before = model._default_manager.filter(pk=obj.pk).values().get()
    page = staff.get(admin_url(label, "change", obj.pk))
    assert page.status_code == 200  # provider staff still read it
    assert 'name="_save"' not in page.text
    changed = staff.post(
        admin_url(label, "change", obj.pk),
        {
            "name": "Đổi tay",
            "status": "suspended",
            "slug": "doi-tay",
            "fingerprint": "gia",
            "event": "sua",
            "verified": "on",
            "_save": "1",
        },
    )
    assert changed.status_code == 403
    deleted = staff.post(admin_url(label, "delete", obj.pk), {"post": "yes"})
    assert deleted.status_code == 403
    assert model._default_manager.filter(pk=obj.pk).values().get() == before


def test_an_agency_changes_status_only_through_its_service(staff: Client, agency_a: Agency) -> None:
    """The console's action goes through tenants.services and leaves an event; the admin's
    form cannot."""
    staff.post(admin_url("tenants.Agency", "change", agency_a.pk), {"status": "suspended"})
    agency_a.refresh_from_db()
    assert agency_a.status == "active"
    assert not AgencyEvent.objects.filter(agency=agency_a, event="status_changed").exists()


def test_a_change_to_a_person_goes_through_the_service_and_is_recorded(
    staff: Client, citizen: User
) -> None:
    response = staff.post(
        admin_url("accounts.User", "change", citizen.pk),
        {
            "full_name": "Nguyễn Văn A",
            "phone": "0912345678",
            "is_active": "on",
            "is_staff": "on",
            "_save": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    citizen.refresh_from_db()
    assert citizen.is_staff and not citizen.is_superuser
    event = AccountEvent.objects.get(user=citizen)
    assert event.event == "changed_by_staff"
    assert event.actor_email == "root@motcua.vn"
    assert event.detail == {"fields": {"is_staff": {"from": False, "to": True}}}


def test_a_person_is_never_deleted_nor_given_a_password_in_the_admin(
    staff: Client, citizen: User
) -> None:
    password = citizen.password
    assert (
        staff.post(admin_url("accounts.User", "delete", citizen.pk), {"post": "yes"}).status_code
        == 403
    )
    response = staff.post(
        f"/admin/accounts/user/{citizen.pk}/password/",
        {"password1": "mat-khau-moi-dai-1", "password2": "mat-khau-moi-dai-1"},
    )
    assert response.status_code == 403
    citizen.refresh_from_db()
    assert citizen.password == password
    assert User.objects.filter(pk=citizen.pk).exists()
