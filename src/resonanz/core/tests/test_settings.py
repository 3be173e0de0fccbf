"""Production settings: what docs/operations.md documents passes Django's deployment checks, and
production refuses to start without a real e-mail backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

SRC = Path(__file__).resolve().parents[3]

# The environment of docs/operations.md ("Scaled"), with example values.
DOCUMENTED = {
    "RESONANZ_ENV": "production",
    "SECRET_KEY": "k" * 20 + "Zq8v#1xJ" * 6,
    "RESONANZ_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "ALLOWED_HOSTS": "resonanz.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://resonanz.example.com",
    "RESONANZ_BASE_URL": "https://resonanz.example.com",
    "RESONANZ_PUBLIC_URL": "https://resonanz.example.com",
    "EMAIL_HOST": "smtp.example.com",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "PYTHONPATH": str(SRC)}
    clean["DJANGO_SETTINGS_MODULE"] = "resonanz.config.settings.base"
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_documented_environment() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=DOCUMENTED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_sends_https_only_cookies_hsts_and_redirects_behind_the_proxy() -> None:
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.MAILERS['default']['BACKEND'])"
    )
    result = manage("shell", "--no-imports", "-c", code, env=DOCUMENTED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "True",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_production_without_a_mail_server_refuses_to_start() -> None:
    env = {k: v for k, v in DOCUMENTED.items() if k != "EMAIL_HOST"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "EMAIL_HOST (or another EMAIL_BACKEND) must be set" in result.stderr


def test_without_a_proxy_the_forwarded_header_is_not_trusted() -> None:
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    result = manage("shell", "--no-imports", "-c", code, env={**DOCUMENTED, "RESONANZ_BEHIND_PROXY": "false"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
