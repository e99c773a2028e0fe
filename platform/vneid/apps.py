from django.apps import AppConfig


class VneidConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vneid"
    verbose_name = "VNeID"

    def ready(self) -> None:
        from vneid import adapter  # noqa: F401  (connects the signal receivers)
