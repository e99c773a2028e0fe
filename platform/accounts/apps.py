from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from allauth.account.signals import password_reset
        from allauth.mfa.signals import authenticator_added

        from accounts import mfa

        authenticator_added.connect(mfa.on_authenticator_added, dispatch_uid="accounts-mfa-added")
        password_reset.connect(mfa.on_password_reset, dispatch_uid="accounts-password-reset")
