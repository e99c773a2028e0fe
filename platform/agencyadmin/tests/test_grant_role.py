"""manage.py grant_role: give a person roles in an agency."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Membership, User


@pytest.mark.django_db
def test_grant_role_gives_and_replaces_roles(agency_a, agency_b) -> None:
    user = User.objects.create_user("canbo@phuonga.gov.vn", "mat-khau-rat-dai-9")
    call_command("grant_role", "CanBo@phuonga.gov.vn", "phuong-a", "admin", "officer")
    membership = Membership.objects.get(user=user, agency=agency_a)
    assert sorted(membership.roles) == ["admin", "officer"]
    call_command("grant_role", user.email, "phuong-a", "viewer")
    membership.refresh_from_db()
    assert membership.roles == ["viewer"]
    assert not Membership.objects.filter(user=user, agency=agency_b).exists()
    with pytest.raises(CommandError, match="No user"):
        call_command("grant_role", "ai@dau.vn", "phuong-a", "admin")
    with pytest.raises(CommandError, match="No agency"):
        call_command("grant_role", user.email, "khong-co", "admin")
    with pytest.raises(CommandError):
        call_command("grant_role", user.email, "phuong-a", "king")
