"""PHP's built-in web server for the real Debian WordPress and MediaWiki in tests (``php -S``).

Why the built-in server: these machines have no systemd and no running Apache, and the test command must
start what it needs itself. ``php -S 127.0.0.1:<port>`` binds loopback only, needs no configuration and
answers in about a second (https://www.php.net/manual/en/features.commandline.webserver.php). It serves
one request at a time per worker; ``PHP_CLI_SERVER_WORKERS`` (PHP ≥ 7.4) gives it a few.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

__all__ = ["PhpServer", "PhpServerError", "free_port", "php_binary", "run_php"]

STARTUP_TIMEOUT = 30.0
STOP_GRACE_SECONDS = 5.0


class PhpServerError(RuntimeError):
    """PHP is missing, a PHP script failed, or the server did not come up."""


def php_binary() -> str | None:
    return os.environ.get("RESONANZ_PHP") or shutil.which("php")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_php(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> str:
    """Run a PHP CLI script; its stdout, or :class:`PhpServerError` with stderr on failure."""
    php = php_binary()
    if php is None:
        raise PhpServerError("`php` not found on PATH (Debian: php-cli)")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [php, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise PhpServerError(
            f"php {' '.join(args[:2])} failed ({result.returncode}):\n"
            f"{result.stderr[-2000:]}{result.stdout[-2000:]}"
        )
    return result.stdout


class PhpServer:
    """``php -S 127.0.0.1:<port> -t <docroot> [router]`` as a child process; waits until it answers."""

    def __init__(
        self,
        *,
        docroot: Path,
        port: int,
        router: Path | None = None,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/",
    ) -> None:
        self.docroot = docroot
        self.port = port
        self.router = router
        self.env = dict(env or {})
        self.ready_path = ready_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        php = php_binary()
        if php is None:
            raise PhpServerError("`php` not found on PATH (Debian: php-cli)")
        argv = [php, "-S", f"127.0.0.1:{self.port}", "-t", str(self.docroot)]
        if self.router is not None:
            argv.append(str(self.router))
        # The access log goes to an unnamed file (nobody drains a pipe; a full one would block PHP).
        self._log = tempfile.TemporaryFile(prefix="resonanz-php-")  # noqa: SIM115 - closed in stop()
        t0 = time.monotonic()
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            argv,
            cwd=self.docroot,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4", **self.env},
            start_new_session=True,
        )
        atexit.register(self.stop)
        deadline = t0 + STARTUP_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                log = self.log_tail()
                self.stop()
                raise PhpServerError(f"php -S exited at start ({self._proc.returncode}):\n{log}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.base_url + self.ready_path, timeout=5.0)
                break
            if time.monotonic() > deadline:
                log = self.log_tail()
                self.stop()
                raise PhpServerError(f"php -S not answering after {STARTUP_TIMEOUT:.0f} s:\n{log}")
            time.sleep(0.1)
        self.startup_seconds = time.monotonic() - t0

    def stop(self) -> None:
        """SIGTERM to the server's process group (its workers too), then SIGKILL. Idempotent."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, max_bytes: int = 4000) -> str:
        if self._log is None:
            return ""
        try:
            fd = self._log.fileno()
            size = os.fstat(fd).st_size
            return os.pread(fd, max_bytes, max(0, size - max_bytes)).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
