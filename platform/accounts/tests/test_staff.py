"""Staff invitations, role changes, deactivation: services and the /quan-tri/nhan-su/ page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import staff
from accounts.models import Membership, User
from accounts.services import membership_grant
from audit.models import AuditEntry
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"
SITE = f"http://{HOST}/"


@pytest.fixture
def admin(commune: Any) -> User:
    user = User.objects.create_user("quantri@anbinh.gov.vn", "mat-khau-quan-tri-1")
    membership_grant(user=user, agency=commune, roles=["admin"])
    return user


def invite(agency: Any, email: str, roles: list[str], actor: Any, capture: Any) -> staff.Invitation:
    with capture(execute=True):
        return staff.staff_invite(
            agency=agency, email=email, roles=roles, actor=actor, site_url=SITE, full_name="Trần B"
        )


@pytest.mark.django_db
def test_inviting_a_new_person_creates_an_account_and_mails_a_set_password_link(
    commune: Any, admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    invitation = invite(
        commune, " CanBo@AnBinh.gov.vn ", ["officer"], admin, django_capture_on_commit_callbacks
    )
    user = User.objects.get(email="canbo@anbinh.gov.vn")
    assert invitation.created_user and not user.has_usable_password()
    assert user.full_name == "Trần B"
    assert invitation.membership.roles == ["officer"] and invitation.membership.is_active
    assert not EmailAddress.objects.get(user=user).verified
    with agency_context(commune):
        entry = AuditEntry.objects.get(action="staff.invite")
    assert entry.actor_id == admin.pk and entry.target == "canbo@anbinh.gov.vn"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["canbo@anbinh.gov.vn"]
    link = re.search(r"http://\S+", str(mail.outbox[0].body))
    assert link is not None and link.group(0) == invitation.set_password_url
    assert link.group(0).startswith(f"http://{HOST}/accounts/password/reset/key/")

    # The link is allauth's password reset: the person chooses a password on the agency host.
    client = Client(HTTP_HOST=HOST)
    response = client.get(link.group(0).removeprefix(f"http://{HOST}"))
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.post(
        form_url, {"password1": "mat-khau-can-bo-2026", "password2": "mat-khau-can-bo-2026"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("mat-khau-can-bo-2026")
    # The mailed link proved the address: no second verification mail before signing in.
    assert EmailAddress.objects.get(user=user).verified


@pytest.mark.django_db
def test_inviting_someone_with_an_account_adds_the_membership_and_notifies(
    commune: Any, admin: User, citizen: User, django_capture_on_commit_callbacks: Any
) -> None:
    invitation = invite(
        commune,
        citizen.email,
        ["receptionist", "officer"],
        admin,
        django_capture_on_commit_callbacks,
    )
    assert not invitation.created_user and invitation.set_password_url == ""
    assert User.objects.filter(email=citizen.email).count() == 1
    assert invitation.membership.roles == ["officer", "receptionist"]
    citizen.refresh_from_db()
    assert citizen.check_password("mat-khau-rat-dai-1")  # untouched
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body
    assert f"{SITE}accounts/login/" in mail.outbox[0].body


@pytest.mark.django_db
def test_duplicate_bad_email_and_bad_roles_are_refused_and_change_nothing(
    commune: Any, admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        invite(commune, admin.email, ["officer"], admin, django_capture_on_commit_callbacks)
    assert exc.value.error_dict["email"][0].code == "duplicate"
    assert Membership.objects.get(user=admin).roles == ["admin"]
    for email, roles in (
        ("not-an-email", ["officer"]),
        ("", ["officer"]),
        ("moi@anbinh.gov.vn", []),
        ("moi@anbinh.gov.vn", ["boss"]),
    ):
        with pytest.raises(ValidationError):
            invite(commune, email, roles, admin, django_capture_on_commit_callbacks)
    assert not User.objects.filter(email="moi@anbinh.gov.vn").exists()
    assert mail.outbox == []
    with agency_context(commune):
        assert not AuditEntry.objects.filter(action="staff.invite").exists()


@pytest.mark.django_db
def test_a_deactivated_member_can_be_invited_back(
    commune: Any, admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    invitation = invite(
        commune, "canbo@anbinh.gov.vn", ["officer"], admin, django_capture_on_commit_callbacks
    )
    staff.staff_deactivate(agency=commune, membership=invitation.membership, actor=admin)
    again = invite(
        commune, "canbo@anbinh.gov.vn", ["viewer"], admin, django_capture_on_commit_callbacks
    )
    assert again.membership.pk == invitation.membership.pk
    assert again.membership.is_active and again.membership.roles == ["viewer"]


@pytest.mark.django_db
def test_role_changes_and_the_last_admin_is_protected(commune: Any, admin: User) -> None:
    own = Membership.objects.get(user=admin, agency=commune)
    with pytest.raises(ValidationError) as exc:
        staff.staff_roles_change(agency=commune, membership=own, roles=["officer"], actor=admin)
    assert exc.value.error_dict["roles"][0].code == "last_admin"
    with pytest.raises(ValidationError):
        staff.staff_deactivate(agency=commune, membership=own, actor=admin)
    own.refresh_from_db()
    assert own.is_active and own.roles == ["admin"]

    second = User.objects.create_user("pho@anbinh.gov.vn", "mat-khau-pho-1")
    other = membership_grant(user=second, agency=commune, roles=["leader"])
    staff.staff_roles_change(
        agency=commune, membership=other, roles=["admin", "leader"], actor=admin
    )
    # Two admins: one may step down, then the other is the last one again.
    staff.staff_roles_change(agency=commune, membership=own, roles=["officer"], actor=admin)
    with pytest.raises(ValidationError):
        staff.staff_deactivate(agency=commune, membership=other, actor=admin)
    staff.staff_deactivate(agency=commune, membership=own, actor=admin)
    assert Membership.objects.get(pk=own.pk).is_active is False
    with agency_context(commune):
        actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("staff.roles") == 2 and actions.count("staff.deactivate") == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_staff_page_lists_invites_and_changes_roles(
    commune: Any, admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = mfa_login(Client(HTTP_HOST=HOST), admin)
    page = client.get("/quan-tri/nhan-su/")
    assert page.status_code == 200 and admin.email in page.text
    bad = client.post("/quan-tri/nhan-su/", {"email": "khong-hop-le", "roles": ["officer"]})
    assert bad.status_code == 400 and "Enter a valid e-mail address." in bad.text
    duplicate = client.post("/quan-tri/nhan-su/", {"email": admin.email, "roles": ["officer"]})
    assert duplicate.status_code == 400 and "is already a member" in duplicate.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/quan-tri/nhan-su/", {"email": "canbo@anbinh.gov.vn", "roles": ["officer"]}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "An invitation was sent" in client.get("/quan-tri/nhan-su/").text
    member = Membership.objects.get(user__email="canbo@anbinh.gov.vn")
    response = client.post(f"/quan-tri/nhan-su/{member.pk}/", {"roles": ["officer", "leader"]})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.roles == ["leader", "officer"]
    own = Membership.objects.get(user=admin)
    response = client.post(f"/quan-tri/nhan-su/{own.pk}/", {"roles": ["viewer"]})
    assert response.status_code == 400
    assert "at least one administrator" in response.text
    response = client.post(f"/quan-tri/nhan-su/{own.pk}/ngung/", follow=True)
    assert "at least one administrator" in response.text
    response = client.post(f"/quan-tri/nhan-su/{member.pk}/ngung/")
    member.refresh_from_db()
    assert response.status_code == 302 and not member.is_active


@pytest.mark.django_db
def test_non_admins_cannot_manage_staff(commune: Any, citizen: User) -> None:
    officer = User.objects.create_user("canbo@anbinh.gov.vn", "mat-khau-can-bo-1")
    membership_grant(user=officer, agency=commune, roles=["officer", "leader"])
    for user in (officer, citizen):
        client = mfa_login(Client(HTTP_HOST=HOST), user)
        assert client.get("/quan-tri/nhan-su/").status_code == 403
        response = client.post("/quan-tri/nhan-su/", {"email": "x@example.vn", "roles": ["admin"]})
        assert response.status_code == 403
    assert not User.objects.filter(email="x@example.vn").exists()


@pytest.mark.django_db
def test_an_admin_cannot_see_or_touch_another_agencys_staff(
    commune: Any, admin: User, make_agency: Any
) -> None:
    other = make_agency("xa-binh-an", name="Xã Bình An")
    their_admin = User.objects.create_user("quantri@binhan.gov.vn", "mat-khau-quan-tri-2")
    their_officer = User.objects.create_user("canbo@binhan.gov.vn", "mat-khau-can-bo-2")
    membership_grant(user=their_admin, agency=other, roles=["admin"])
    theirs = membership_grant(user=their_officer, agency=other, roles=["officer"])
    client = mfa_login(Client(HTTP_HOST=HOST), admin)
    assert their_officer.email not in client.get("/quan-tri/nhan-su/").text
    assert client.get(f"/quan-tri/nhan-su/{theirs.pk}/").status_code == 404
    assert client.post(f"/quan-tri/nhan-su/{theirs.pk}/", {"roles": ["admin"]}).status_code == 404
    assert client.post(f"/quan-tri/nhan-su/{theirs.pk}/ngung/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.roles == ["officer"]
    with pytest.raises(Membership.DoesNotExist):
        staff.staff_member(agency=commune, membership_id=theirs.pk)
    with pytest.raises(Membership.DoesNotExist):
        staff.staff_deactivate(agency=commune, membership=theirs, actor=admin)
    # The admin's session is worth nothing on the other agency's host.
    elsewhere = mfa_login(Client(HTTP_HOST="xa-binh-an.localhost"), admin)
    assert elsewhere.get("/quan-tri/nhan-su/").status_code == 403
    with agency_context(other):
        assert not AuditEntry.objects.filter(action__startswith="staff.").exists()
