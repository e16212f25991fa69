"""OUTSIDE WORLD: connections to affiliate networks (Affilae, Affelios, Affili) and sync runs."""
from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from integrations import tasks  # noqa: F401  (registers the Celery tasks)
