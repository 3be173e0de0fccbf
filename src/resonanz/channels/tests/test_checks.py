"""Start-up checks of the encryption keys (issue #8: a wrong key passed `manage check`, then most pages
answered 500)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from resonanz.channels.checks import encryption_keys_read_channels_check
from resonanz.core import crypto

SRC = Path(__file__).resolve().parents[3]


def test_readable_logins_pass(make_channel) -> None:
    make_channel("mastodon", credentials={"access_token": "tok"})
    assert encryption_keys_read_channels_check() == []


def test_a_wrong_key_is_an_error_before_any_page_is_opened(make_channel, settings) -> None:
    make_channel("mastodon", credentials={"access_token": "tok"})
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto.reset_key_cache()
    try:
        found = encryption_keys_read_channels_check()
    finally:
        crypto.reset_key_cache()
    assert [m.id for m in found] == ["resonanz.E001"]
    assert "RESONANZ_ENCRYPTION_KEYS" in found[0].msg


def test_one_unreadable_login_among_readable_ones_is_a_warning(make_channel, settings) -> None:
    make_channel("mastodon", credentials={"access_token": "old"})
    old_key = settings.ENCRYPTION_KEYS[0]
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto.reset_key_cache()
    try:
        make_channel("bluesky", credentials={"access_jwt": "new"})
        found = encryption_keys_read_channels_check()
    finally:
        settings.ENCRYPTION_KEYS = [old_key]
        crypto.reset_key_cache()
    assert [m.id for m in found] == ["resonanz.W001"]
    assert found[0].msg.startswith("1 of the 2 most recent")


def test_a_malformed_key_stops_every_command_with_a_clear_message(tmp_path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(SRC),
        "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
        "RESONANZ_DATA_DIR": str(tmp_path),
        "RESONANZ_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},not-a-key",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "RESONANZ_ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key" in result.stderr
