from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Citizen portal")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from dossiers.models import Dossier, DossierEvent
        from portal.signals import dossier_changed

        post_save.connect(dossier_changed, sender=Dossier, dispatch_uid="portal-dossier")
        post_save.connect(dossier_changed, sender=DossierEvent, dispatch_uid="portal-event")
