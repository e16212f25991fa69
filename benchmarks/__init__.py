"""`make bench`: each benchmarks/bench_*.py module measures our figure beside a baseline taken
in the same run, on a throw-away SQLite database (or DATABASE_URL if BENCH_DATABASE_URL is set)."""
