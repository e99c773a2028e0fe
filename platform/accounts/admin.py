"""Provider staff's admin pages for people. Changes to an account go through
``accounts.services.user_update_by_staff``, which records them in the provider's trail; nobody
is added or deleted here (people sign up themselves and are deactivated, never deleted), and a
password is its owner's to set. allauth's e-mail addresses and authenticators, and Django's
groups (unused: staff are ``is_staff``/``is_superuser``), are not edited by hand either."""

from __future__ import annotations

from typing import Any

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from allauth.socialaccount.admin import SocialAccountAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import AccountEvent, User
from accounts.permissions import signed_in
from accounts.services import STAFF_EDITABLE_FIELDS, user_update_by_staff
from core.admin import ReadOnlyModelAdmin


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email",)}),
        ("Profile", {"fields": ("full_name", "phone")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ["email", "last_login", "date_joined"]
    filter_horizontal = ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        changes = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in STAFF_EDITABLE_FIELDS
        }
        user_update_by_staff(user_id=obj.pk, changes=changes, actor=signed_in(request))
        obj.refresh_from_db()

    def user_change_password(
        self,
        request: HttpRequest,
        id: str,  # noqa: A002 - Django's name for it
        form_url: str = "",
    ) -> HttpResponse:
        raise PermissionDenied  # the owner resets it ("forgot password")


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "user", "event", "actor_email"]
    list_filter = ["event"]
    search_fields = ["user__email", "actor_email"]


admin.site.unregister(Group)
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)
# VNeID links: seen, never edited here (a link is made by the person's own sign-in). The app's
# credentials come from settings and no tokens are stored, so those two pages would be empty.
admin.site.unregister(SocialAccount)
admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)


@admin.register(EmailAddress)
class ReadOnlyEmailAddressAdmin(ReadOnlyModelAdmin, EmailAddressAdmin):  # type: ignore[misc]
    actions = None  # "make verified" would skip the owner's own confirmation


@admin.register(Authenticator)
class ReadOnlyAuthenticatorAdmin(ReadOnlyModelAdmin, AuthenticatorAdmin):  # type: ignore[misc]
    actions = None


@admin.register(SocialAccount)
class ReadOnlySocialAccountAdmin(ReadOnlyModelAdmin, SocialAccountAdmin):  # type: ignore[misc]
    actions = None
