"""Start-up configuration: bad environment variables stop start-up with a message naming them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    for name, value in env.items():
        if value is None:
            del full_env[name]
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DJANGO_DEBUG": "false"}, "Set the environment variable DJANGO_SECRET_KEY"),
        # Unset means production: no silent fallback to debug mode and a known key.
        (
            {"DJANGO_DEBUG": None, "DJANGO_SECRET_KEY": None},
            "Set the environment variable DJANGO_SECRET_KEY",
        ),
        ({"FLOCK_LOG_LEVEL": "chatty"}, "FLOCK_LOG_LEVEL='CHATTY' is not a log level"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT='twenty-five' is not a whole number"),
        ({"DATABASE_URL": "mysql://root@localhost/flock"}, "DATABASE_URL must point to PostgreSQL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
    ],
)
def test_bad_environment_stops_start_up_naming_the_variable(env, named):
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert named in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60 + "production-secret-with-enough-entropy-1234567890",
        DJANGO_ALLOWED_HOSTS="flock.example.com",
    )
    assert result.returncode == 0, result.stderr + result.stdout
