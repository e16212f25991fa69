"""Run every benchmark module and print one table. Usage: python -m benchmarks [name ...]"""
import importlib
import os
import pkgutil
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    tmp = tempfile.mkdtemp(prefix="bench-")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0, interactive=False)

    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    rows = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        rows.extend(module.run())
        print(f"  {name} done in {time.perf_counter() - started:.1f}s", file=sys.stderr)

    header = ("benchmark", "ours", "baseline", "unit", "ours vs baseline")
    table = [header] + [
        (r["name"], f"{r['ours']:.3f}", f"{r['baseline']:.3f}", r["unit"], _ratio(r))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def _ratio(row) -> str:
    ours, base = row["ours"], row["baseline"]
    if ours == 0 or base == 0:
        return "n/a"
    better_low = row.get("lower_is_better", True)
    factor = base / ours if better_low else ours / base
    return f"{factor:.1f}x {'faster' if better_low else 'more'}" if factor >= 1 else f"{1 / factor:.1f}x slower"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
