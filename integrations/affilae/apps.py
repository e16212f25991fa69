from django.apps import AppConfig


class AffilaeConfig(AppConfig):
    name = "integrations.affilae"
    label = "affilae"
    verbose_name = "Integrations: Affilae"
