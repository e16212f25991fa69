"""Send due postback deliveries: what the beat task deliver_due_postbacks does, by hand.

    manage.py deliver_postbacks --once     one pass, then exit
    manage.py deliver_postbacks            keep polling (a worker without Celery)
"""
import time

from django.core.management.base import BaseCommand

from campaigns.services.postback_delivery import postback_deliveries_send_due


class Command(BaseCommand):
    help = "Send postback deliveries whose next attempt is due (retries included)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=5.0,
                            help="Seconds between passes when polling (default 5).")

    def handle(self, *args, once=False, interval=5.0, **options):
        while True:
            sent = postback_deliveries_send_due()
            if once or options["verbosity"] > 1 or sent:
                self.stdout.write(f"postback deliveries sent: {sent}")
            if once:
                return
            if not sent:
                time.sleep(max(0.5, interval))
