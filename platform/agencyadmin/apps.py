from django.apps import AppConfig


class AgencyAdminConfig(AppConfig):
    """The agency admin's pages: procedures, branding, working calendar, dossier codes."""

    name = "agencyadmin"
    verbose_name = "Agency administration"
