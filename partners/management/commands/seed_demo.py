"""`manage.py seed_demo`: the demo program and the credentials to try it with, as `name: value`
lines. Safe to run again: it adds only what is missing.

Each app seeds its own part; settings.DEMO_SEEDERS (the composition root) lists them in order,
so partners needs to know nothing of the apps built on it."""
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

WARNING = (
    "WARNING: demo credentials - fixed and published in the source code; "
    "never use them on a server others can reach."
)


class Command(BaseCommand):
    help = "Seed a small demo affiliate program and print how to sign in to it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Seed even with DEBUG=False (a throwaway demo server only).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to seed demo data with DEBUG=False: it creates accounts whose "
                "passwords and 2FA keys are published in the source code. Pass --force only "
                "on a throwaway demo server."
            )
        call_command("setup_groups", stdout=StringIO())
        lines = []
        with transaction.atomic():
            for path in settings.DEMO_SEEDERS:
                lines.extend(import_string(path)())
        self.stdout.write(WARNING)
        for name, value in lines:
            self.stdout.write(f"{name}: {value}")
