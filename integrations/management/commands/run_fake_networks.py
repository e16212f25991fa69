"""manage.py run_fake_networks [--host-port-base 8101]

Starts the fake Affilae, Affelios and Affili servers of the contract tests (tests/fakes/) on
127.0.0.1 with demo data, so a person can try the connections from the admin ("Save & Test",
"Sync now") without the real networks. The demo connections that `seed_demo` creates point at
these addresses and use the keys printed here. For development only: the fakes keep everything
in memory and accept the demo keys.
"""
import importlib
import time

from django.core.management.base import BaseCommand, CommandError

from integrations.demo import PORT_BASE as DEFAULT_PORT_BASE
from integrations.demo import demo_key

NETWORKS = (("affilae", "Affilae"), ("affelios", "Affelios"), ("affili", "Affili"))


class Command(BaseCommand):
    help = "Run the fake affiliate networks (Affilae, Affelios, Affili) on loopback with demo data."

    def add_arguments(self, parser):
        parser.add_argument("--port-base", type=int, default=DEFAULT_PORT_BASE,
                            help="Affilae listens here, Affelios on +1, Affili on +2 (default 8101).")

    def handle(self, *args, port_base, **options):
        fakes = []
        try:
            for n, (network, title) in enumerate(NETWORKS):
                try:
                    module = importlib.import_module(f"tests.fakes.{network}")
                except ImportError as exc:
                    raise CommandError(f"The fake {title} is not available ({exc}); run from a source checkout.") from exc
                fake = module.demo(port_base + n)
                if getattr(fake, "_server", None) is None:
                    fake.start()
                fakes.append(fake)
                self.stdout.write(f"{title:9} {fake.url}  key: {demo_key(network)}")
            self.stdout.write("Fake networks running; Ctrl-C stops them.")
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        except OSError as exc:
            raise CommandError(f"Could not listen on 127.0.0.1 ports from {port_base} ({exc}); "
                               "pass --port-base to use others.") from exc
        finally:
            for fake in fakes:
                fake.stop()
