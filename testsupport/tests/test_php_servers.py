"""Self-test of the real WordPress and MediaWiki test servers (no Django): each start leaves nothing behind.

A leaked MariaDB database, temporary directory or PHP process on CI would pile up run after run, so
``stop()`` is checked here: the database is dropped, the directory removed, the port closed. Skipped
only when PHP or the Debian package is missing (``scripts/system-packages`` installs them).
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from testsupport.servers.mediawiki import MediaWikiTestSite, mediawiki_missing
from testsupport.servers.php import run_php
from testsupport.servers.wordpress import WordPressTestSite, wordpress_missing


def _database_exists(name: str) -> bool:
    host, _sep, port = os.environ.get("RESONANZ_WORDPRESS_DB_HOST", "127.0.0.1:3306").partition(":")
    code = (
        "$a = json_decode($argv[1], true);"
        "$m = new mysqli($a['host'], $a['user'], $a['password'], '', (int) $a['port']);"
        "$r = $m->query(\"SHOW DATABASES LIKE '\" . $m->real_escape_string($a['name']) . \"'\");"
        "echo $r->num_rows;"
    )
    args = {
        "host": host,
        "port": port or "3306",
        "user": os.environ.get("RESONANZ_WORDPRESS_DB_USER", "root"),
        "password": os.environ.get("RESONANZ_WORDPRESS_DB_PASSWORD", ""),
        "name": name,
    }
    return run_php(["-r", code, json.dumps(args)]).strip() == "1"


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


def test_wordpress_starts_serves_and_leaves_nothing_behind() -> None:
    reason = wordpress_missing()
    if reason:
        pytest.skip(reason)
    site = WordPressTestSite()
    site.start()
    try:
        directory, database = site.directory, site.db_name
        assert directory is not None
        assert directory.is_dir()
        assert _database_exists(database)
        post = site.create_post("Selbsttest", "Hallo")
        feed = httpx.get(site.url + "/feed/", timeout=30)
        assert feed.headers["content-type"].startswith("application/rss+xml")
        assert post["link"] in feed.text
    finally:
        site.stop()
    assert not directory.exists()
    assert not _database_exists(database)
    assert not _answers(site.url + "/feed/")
    site.stop()  # idempotent


def test_mediawiki_starts_serves_and_leaves_nothing_behind() -> None:
    reason = mediawiki_missing()
    if reason:
        pytest.skip(reason)
    site = MediaWikiTestSite()
    site.start()
    try:
        directory = site.directory
        assert directory is not None
        assert (directory / "LocalSettings.php").is_file()
        revid = site.edit("Selbsttest", "Hallo", summary="Anlage")
        page = site.api("GET", action="query", prop="revisions", titles="Selbsttest", rvprop="ids")
        assert page["query"]["pages"][0]["revisions"][0]["revid"] == revid
    finally:
        site.stop()
    assert not directory.exists()
    assert not _answers(site.api_url)
    site.stop()
