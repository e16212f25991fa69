from django.apps import AppConfig


class AffiliConfig(AppConfig):
    name = "integrations.affili"
    label = "affili"
    verbose_name = "Integrations: Affili"
