"""allauth's social-account adapter: VNeID's identity recorded; refusals shown in words."""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from vneid.services import identity_claims, identity_record


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]  # untyped
    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        # Checked before any account is created or connected: an incomplete identity stops here.
        if sociallogin.account.provider == "vneid":
            try:
                identity_claims(sociallogin.account.extra_data)
            except ValidationError as exc:
                raise ImmediateHttpResponse(_refusal(request, exc.messages[0])) from None

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.full_name = (data.get("name") or "")[:150]
        return user

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        if sociallogin.account.provider == "vneid":
            identity_record(user=user, data=sociallogin.account.extra_data)
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        from vneid.provider import VNeIDError

        if isinstance(exception, VNeIDError):
            raise ImmediateHttpResponse(_refusal(request, str(exception)))
        if getattr(provider, "id", "") == "vneid":
            raise ImmediateHttpResponse(
                _refusal(request, _("Signing in with VNeID did not succeed. Please try again."))
            )


def _refusal(request: HttpRequest, message: str) -> Any:
    return render(request, "vneid/refused.html", {"message": message}, status=400)


@receiver(social_account_added)
@receiver(social_account_updated)
def _identity_refresh(sender: Any, request: HttpRequest, sociallogin: Any, **kwargs: Any) -> None:
    """An account that connected VNeID, or signed in with it again: the identity is current."""
    if sociallogin.account.provider == "vneid":
        identity_record(user=sociallogin.user, data=sociallogin.account.extra_data)
