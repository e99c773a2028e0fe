from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Agencies")

    def ready(self) -> None:
        from tenants import clusters, signals  # noqa: F401  (routing-cache invalidation)

        clusters.register_from_settings()
