from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations import roles
        from integrations.flows import registry

        registry.autodiscover()
        # Role groups gain the permissions of models added by later migrations.
        post_migrate.connect(roles.refresh_after_migrate, sender=self)
