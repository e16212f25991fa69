from django.apps import AppConfig


class AffeliosConfig(AppConfig):
    name = "integrations.affelios"
    label = "affelios"
    verbose_name = "Integrations: Affelios"
