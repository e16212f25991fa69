from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # Raw data saved through the ORM marks its stats cells dirty (ARCHITECTURE: a signal,
        # never an import of reports from campaigns).
        from reports import signals

        signals.connect()
        # Registers the reports.refresh_stats task (Celery autodiscovers `reports.tasks` only).
        from reports import tasks_stats  # noqa: F401
