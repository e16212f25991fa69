"""`manage.py seed_demo`: the demo program (partners.services.demo) and the credentials to
try it with, as `name: value` lines. Safe to run again: it adds only what is missing."""
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from partners.services.demo import demo_seed

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
        lines = demo_seed()
        self.stdout.write(WARNING)
        for name, value in lines:
            self.stdout.write(f"{name}: {value}")
