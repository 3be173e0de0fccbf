"""A real MediaWiki (Debian's ``mediawiki`` 1.39) on PHP's built-in server with SQLite, for listening tests.

Why real: the ``wiki`` listening source reads ``list=recentchanges`` and ``prop=revisions`` from the Action
API; the real server decides what ``rcstart``/``rvstartid`` include, how timestamps look and what an edit
records, not our reading of the documentation.

``start()`` touches nothing outside a temporary directory: ``maintenance/install.php --dbtype sqlite``
writes ``LocalSettings.php`` and the SQLite files there (under a second); MediaWiki finds that file through
the ``MW_CONFIG_FILE`` environment variable (includes/BootstrapHelperFunctions.php, 1.39), so the server's
document root is ``/usr/share/mediawiki`` itself and Debian's ``/etc/mediawiki`` stays empty. Our own
settings (``devservers/mediawiki/settings.php``: a file cache, no mail, bot passwords) are required at
the end of the generated file. A bot
password (``maintenance/createBotPassword.php``) is what edits log in with, as a bot or a tool would
(https://www.mediawiki.org/wiki/Manual:Bot_passwords): ``action=login`` with a login token, then a CSRF
token, then ``action=edit`` (https://www.mediawiki.org/wiki/API:Edit).
"""

from __future__ import annotations

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

__all__ = ["MEDIAWIKI_ROOT", "MediaWikiTestSite", "mediawiki_missing"]

MEDIAWIKI_ROOT = Path(os.environ.get("RESONANZ_MEDIAWIKI_ROOT", "/usr/share/mediawiki"))

DEVSERVER_DIR = Path(__file__).resolve().parents[2] / "devservers" / "mediawiki"


def mediawiki_missing() -> str | None:
    """Why the real MediaWiki cannot run here (for a skip), or None."""
    if php_binary() is None:
        return "php not found (Debian packages php-cli php-sqlite3 php-intl php-mbstring php-xml)"
    if not (MEDIAWIKI_ROOT / "maintenance" / "install.php").is_file():
        return f"MediaWiki not found at {MEDIAWIKI_ROOT} (Debian package mediawiki)"
    try:
        run_php(["-r", "exit(extension_loaded('pdo_sqlite') && extension_loaded('intl') ? 0 : 1);"])
    except PhpServerError:
        return "PHP's sqlite3 or intl extension is missing (Debian packages php-sqlite3 php-intl)"
    return None


class MediaWikiTestSite:
    """One wiki for a test session. Use as a context manager (or ``start()``/``stop()``)."""

    admin_user = "Admin"
    bot_app = "resonanz"

    def __init__(self) -> None:
        self.port = free_port()
        self.admin_password = secrets.token_urlsafe(16)
        self.bot_password = secrets.token_hex(20)  # at least 32 characters (MediaWiki's rule)
        self._dir: Path | None = None
        self._server: PhpServer | None = None
        self._http: httpx.Client | None = None
        self._csrf = ""
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api.php"

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
            self._dir = Path(tempfile.mkdtemp(prefix="resonanz-mediawiki-"))
            data = self._dir / "data"
            data.mkdir()
            (self._dir / "cache").mkdir()
            env = {"MW_CONFIG_FILE": str(self._dir / "LocalSettings.php")}
            run_php(
                [
                    "maintenance/install.php",
                    "--confpath", str(self._dir),
                    "--dbtype", "sqlite",
                    "--dbpath", str(data),
                    "--dbname", "wiki",
                    "--server", self.url,
                    "--scriptpath", "",
                    "--lang", "de",
                    "--skins", "Vector",
                    "--pass", self.admin_password,
                    "Resonanz Testwiki",
                    self.admin_user,
                ],
                cwd=MEDIAWIKI_ROOT,
            )  # fmt: skip
            extra = str(DEVSERVER_DIR / "settings.php").replace("\\", "\\\\").replace("'", "\\'")
            with (self._dir / "LocalSettings.php").open("a") as settings:
                settings.write(f"\nrequire_once '{extra}';\n")  # a PHP single-quoted string
            run_php(
                [
                    "maintenance/createBotPassword.php",
                    "--grants", "basic,editpage,createeditmovepage,highvolume",
                    "--appid", self.bot_app,
                    self.admin_user,
                    self.bot_password,
                ],
                cwd=MEDIAWIKI_ROOT,
                env=env,
            )  # fmt: skip
            self._server = PhpServer(
                docroot=MEDIAWIKI_ROOT,
                port=self.port,
                env=env,
                ready_path="/api.php?action=query&meta=siteinfo&format=json",
            )
            self._server.start()
            self._http = httpx.Client(timeout=30.0)
            self._login()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- Action API ---------------------------------------------------------------------------------

    def api(self, method: str, **params: Any) -> dict[str, Any]:
        if self._http is None:
            raise PhpServerError("MediaWiki not started")
        params = {"format": "json", "formatversion": "2", **params}
        if method == "GET":
            response = self._http.get(self.api_url, params=params)
        else:
            response = self._http.post(self.api_url, data=params)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        if "error" in data:
            raise PhpServerError(f"MediaWiki API error: {data['error']}")
        return data

    def _login(self) -> None:
        token = self.api("GET", action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
        result = self.api(
            "POST",
            action="login",
            lgname=f"{self.admin_user}@{self.bot_app}",
            lgpassword=self.bot_password,
            lgtoken=token,
        )
        if result.get("login", {}).get("result") != "Success":
            raise PhpServerError(f"bot login failed: {result}")
        self._csrf = self.api("GET", action="query", meta="tokens")["query"]["tokens"]["csrftoken"]

    def edit(self, title: str, text: str, *, summary: str) -> int:
        """Save a page as the bot (creates it on the first edit); the new revision id."""
        result = self.api("POST", action="edit", title=title, text=text, summary=summary, token=self._csrf)
        edit = result["edit"]
        if edit.get("result") != "Success":
            raise PhpServerError(f"edit failed: {result}")
        return int(edit["newrevid"])

    def log_tail(self) -> str:
        return self._server.log_tail() if self._server is not None else ""
