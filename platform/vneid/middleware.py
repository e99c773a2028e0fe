"""Agencies that require it: staff reach the desk and the administration after a VNeID sign-in.

The session must hold a VNeID sign-in (allauth's authentication records), not only an account
that has VNeID linked: a password alone does not open staff pages.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.account.authentication import get_authentication_records
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import agency_roles

STAFF_PREFIXES = ("/mot-cua/", "/quan-tri/")


def signed_in_with_vneid(request: HttpRequest) -> bool:
    return any(
        r.get("method") == "socialaccount" and r.get("provider") == "vneid"
        for r in get_authentication_records(request, request.user)
    )


class StaffVNeIDMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        agency = getattr(request, "agency", None)
        if (
            agency is not None
            and agency.staff_vneid_required
            and request.user.is_authenticated
            and request.path.startswith(STAFF_PREFIXES)
            and agency_roles(request)
            and not signed_in_with_vneid(request)
        ):
            return render(request, "vneid/staff_required.html", status=403)
        return self.get_response(request)
