"""The README's first command: ``resonanz up`` starts the embedded default and Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_serves_the_login_page_creates_the_admin_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    scaled = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}  # the embedded default, whatever CI sets
    env = {k: v for k, v in os.environ.items() if k not in scaled}
    env.update({"RESONANZ_ADMIN_EMAIL": "erste@example.com", "RESONANZ_ADMIN_PASSWORD": "Sehr-geheim-123"})
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "resonanz", "up", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.3)
        output = (tmp_path / "up.log").read_text(errors="replace")
        assert 'name="password"' in body, output[-3000:]
        assert "Created the first admin: erste@example.com" in output
        assert (tmp_path / "data").is_dir()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "Resonanz stopped." in (tmp_path / "up.log").read_text(errors="replace")
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
