"""A real WordPress (Debian's ``wordpress`` package) on PHP's built-in server, for listening tests.

Why real: the listening feed source reads blogs; WordPress is the most common one, and its RSS 2.0 and Atom
feeds (``/feed/``, ``/feed/atom/``, ``/comments/feed/``) are what users paste in. A hand-written feed tests
only what we believe they look like.

What ``start()`` does, touching nothing outside a temporary directory and one MariaDB database:

1. a per-run document root: Debian's top-level PHP files are copied (``wp-load.php`` takes ``ABSPATH`` from
   its own directory, so a copy makes WordPress look for ``wp-config.php`` here), ``wp-admin`` and
   ``wp-includes`` are symlinks to ``/usr/share/wordpress``, and ``wp-config.php`` is ours
   (``devservers/wordpress/wp-config.php``, values from ``run.json``) instead of Debian's loader, which
   only reads ``/etc/wordpress/config-<host>.php``;
2. a database ``<prefix>_<pid>_<random>`` on MariaDB (``127.0.0.1:3306``, root without password: override
   with ``RESONANZ_WORDPRESS_DB_HOST``/``_USER``/``_PASSWORD``), created and dropped with PHP's mysqli so
   no MySQL client library is needed;
3. ``devservers/wordpress/install.php``: ``wp_install()``, pretty permalinks, an application password
   (about half a second: nothing to cache);
4. ``php -S 127.0.0.1:<free port> router.php``.

Posts and comments are made through the REST API (https://developer.wordpress.org/rest-api/reference/)
with the application password (HTTP basic auth), as a real author's tools would.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from .php import PhpServer, PhpServerError, free_port, php_binary, run_php

__all__ = ["WORDPRESS_ROOT", "WordPressTestSite", "wordpress_missing"]

WORDPRESS_ROOT = Path(os.environ.get("RESONANZ_WORDPRESS_ROOT", "/usr/share/wordpress"))
DEVSERVER_DIR = Path(__file__).resolve().parents[2] / "devservers" / "wordpress"


def wordpress_missing() -> str | None:
    """Why the real WordPress cannot run here (for a skip), or None."""
    if php_binary() is None:
        return "php not found (Debian packages php-cli php-mysql; scripts/system-packages installs them)"
    if not (WORDPRESS_ROOT / "wp-settings.php").is_file():
        return f"WordPress not found at {WORDPRESS_ROOT} (Debian package wordpress)"
    try:
        run_php(["-r", "exit(extension_loaded('mysqli') ? 0 : 1);"])
    except PhpServerError:
        return "PHP's mysqli extension is missing (Debian package php-mysql)"
    return None


def _mysqli(sql: str) -> None:
    host, _sep, port = os.environ.get("RESONANZ_WORDPRESS_DB_HOST", "127.0.0.1:3306").partition(":")
    code = (
        "$a = json_decode($argv[1], true);"
        "$m = new mysqli($a['host'], $a['user'], $a['password'], '', (int) $a['port']);"
        "if (!$m->query($a['sql'])) { fwrite(STDERR, $m->error); exit(1); }"
    )
    args = {
        "host": host,
        "port": port or "3306",
        "user": os.environ.get("RESONANZ_WORDPRESS_DB_USER", "root"),
        "password": os.environ.get("RESONANZ_WORDPRESS_DB_PASSWORD", ""),
        "sql": sql,
    }
    run_php(["-r", code, json.dumps(args)], timeout=30)


class WordPressTestSite:
    """One WordPress site for a test session. Use as a context manager (or ``start()``/``stop()``)."""

    def __init__(self, *, db_prefix: str | None = None) -> None:
        prefix = db_prefix or os.environ.get("RESONANZ_WORDPRESS_DB_PREFIX", "resonanz_wp")
        self.db_name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin_user = "redaktion"
        self.admin_password = secrets.token_urlsafe(16)
        self.application_password = ""
        self.port = free_port()
        self._dir: Path | None = None
        self._server: PhpServer | None = None
        self._db_created = False
        self._http: httpx.Client | None = None
        #: Seconds spent by ``start()``: document root, database and install, and the server's first answer.
        self.install_seconds = 0.0
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def directory(self) -> Path | None:
        """The per-run directory while the site runs (removed by ``stop()``)."""
        return self._dir

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        t0 = time.monotonic()
        try:
            self._dir = Path(tempfile.mkdtemp(prefix="resonanz-wordpress-"))
            docroot = self._docroot(self._dir)
            _mysqli(f"CREATE DATABASE `{self.db_name}` CHARACTER SET utf8mb4")
            self._db_created = True
            run = {
                "db_name": self.db_name,
                "db_user": os.environ.get("RESONANZ_WORDPRESS_DB_USER", "root"),
                "db_password": os.environ.get("RESONANZ_WORDPRESS_DB_PASSWORD", ""),
                "db_host": os.environ.get("RESONANZ_WORDPRESS_DB_HOST", "127.0.0.1:3306"),
                "secret": secrets.token_hex(16),
                "url": self.url,
                "admin_user": self.admin_user,
                "admin_email": "redaktion@example.com",
                "admin_password": self.admin_password,
            }
            (docroot / "run.json").write_text(json.dumps(run))
            out = run_php([str(DEVSERVER_DIR / "install.php"), str(docroot)], cwd=docroot)
            # Debian's mail fallback prints "sendmail not found" after the JSON line: harmless.
            line = next(part for part in out.splitlines() if part.startswith("{"))
            self.application_password = str(json.loads(line)["application_password"])
            self.install_seconds = time.monotonic() - t0
            self._server = PhpServer(
                docroot=docroot, port=self.port, router=DEVSERVER_DIR / "router.php", ready_path="/feed/"
            )
            self._server.start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        self._http = httpx.Client(
            base_url=self.url + "/wp-json/wp/v2",
            auth=(self.admin_user, self.application_password),
            timeout=30.0,
        )

    def stop(self) -> None:
        """Stop the server, drop the database, remove the directory. Idempotent."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._db_created:
            self._db_created = False
            _mysqli(f"DROP DATABASE IF EXISTS `{self.db_name}`")
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _docroot(self, base: Path) -> Path:
        docroot = base / "htdocs"
        docroot.mkdir()
        for entry in WORDPRESS_ROOT.iterdir():
            if entry.name in {"wp-config.php", "wp-content"}:
                continue
            if entry.suffix == ".php":
                shutil.copy2(entry, docroot / entry.name)
            else:
                (docroot / entry.name).symlink_to(entry)
        content = docroot / "wp-content"
        content.mkdir()
        for sub in ("plugins", "themes"):
            if (WORDPRESS_ROOT / "wp-content" / sub).is_dir():
                (content / sub).symlink_to(WORDPRESS_ROOT / "wp-content" / sub)
        (content / "uploads").mkdir()
        shutil.copy2(DEVSERVER_DIR / "wp-config.php", docroot / "wp-config.php")
        return docroot

    # -- REST API -----------------------------------------------------------------------------------

    def rest(self, method: str, path: str, **body: Any) -> Any:
        if self._http is None:
            raise PhpServerError("WordPress not started")
        response = self._http.request(method, path, json=body or None)
        if not response.is_success:
            raise PhpServerError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response.json()

    def create_post(self, title: str, content: str) -> dict[str, Any]:
        """Publish a post (``POST /wp/v2/posts``); its JSON (``id``, ``link``, ``guid``)."""
        return dict(self.rest("POST", "/posts", title=title, content=content, status="publish"))

    def update_post(self, post_id: int, **fields: Any) -> dict[str, Any]:
        return dict(self.rest("POST", f"/posts/{post_id}", **fields))

    def create_comment(
        self, post_id: int, content: str, *, author_name: str, author_email: str = "leser@example.com"
    ) -> dict[str, Any]:
        """A reader's comment on a post (``POST /wp/v2/comments``; a moderator may name the author, and
        the comment is approved at once: ``comment_moderation`` is off)."""
        return dict(
            self.rest(
                "POST", "/comments", post=post_id, content=content, author_name=author_name,
                author_email=author_email, status="approved",
            )
        )  # fmt: skip

    def log_tail(self) -> str:
        return self._server.log_tail() if self._server is not None else ""
