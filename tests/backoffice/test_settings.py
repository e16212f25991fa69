"""Production settings: `check --deploy` is clean, and the settings without a safe default
stop start-up with a message naming them."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args, **env_overrides) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with a clean, production-like environment (the
    repository's .env is read too, but real variables win: every setting under test is set
    or removed explicitly)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))}
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "CELERY_BROKER_URL", "EMAIL_URL", "SECURE_PROXY_SSL"):
        env.pop(name, None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    env["DJANGO_SETTINGS_MODULE"] = "backoffice.settings"
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def _in_dotenv(name: str) -> bool:
    dotenv = REPO_ROOT / ".env"
    if not dotenv.exists():
        return False
    return any(
        line.split("=", 1)[0].strip() == name and line.split("=", 1)[1].strip()
        for line in dotenv.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )


PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "example.com",
    "SECURE_PROXY_SSL": "true",
}


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_start_up_fails_naming_a_missing_setting(tmp_path, missing):
    if _in_dotenv(missing):
        pytest.skip(f"the repository's .env sets {missing}, so it cannot be missing here")
    result = manage(tmp_path, "check", **{**PRODUCTION, missing: None})

    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG=False" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_an_empty_value_counts_as_missing(tmp_path, missing):
    result = manage(tmp_path, "check", **{**PRODUCTION, missing: ""})

    assert result.returncode != 0
    assert missing in result.stderr


def test_development_needs_nothing_set(tmp_path):
    result = manage(tmp_path, "check", DEBUG="True", SECRET_KEY=None, ALLOWED_HOSTS=None)

    assert result.returncode == 0, result.stderr
