from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CopiesConfig(AppConfig):
    name = "copies"
    verbose_name = _("Electronic certified copies")

    def ready(self) -> None:
        # The QR printed on a certified copy opens /xac-thuc/<reference>/.
        from copies.selectors import certified_copy_held
        from documents.references import reference_resolver_register

        reference_resolver_register(certified_copy_held)
