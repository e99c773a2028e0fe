from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Signed documents")

    def ready(self) -> None:
        # The QR printed on a receipt, a form or a result opens /xac-thuc/<reference>/.
        from documents.references import reference_resolver_register
        from documents.selectors import issued_document_held

        reference_resolver_register(issued_document_held)
