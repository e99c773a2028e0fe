from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocstoreConfig(AppConfig):
    name = "docstore"
    verbose_name = _("Document store")
