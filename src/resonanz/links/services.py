"""Writes of short links: settings, create (with the UTM builder), shorten the links of a post's text, and
record a click. Every function but the redirect's ``click_record`` takes the workspace.

Presets: a link made for a channel gets ``utm_source`` from the channel's network (its display name from
the connector registry, so this module names no network), ``utm_medium=social``; a link in a campaign gets
``utm_campaign`` from the campaign's name; a link made for a post gets ``utm_content=post-<id>``.
Explicit values win over presets.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.connectors.registry import network_display_name
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import Post

from .models import UTM_FIELDS, Click, DailySalt, LinkSettings, ShortLink
from .selectors import link_base_url

logger = logging.getLogger(__name__)

TARGET_MAX = 2000
UTM_MAX = 100
CODE_BYTES = 6  # 8 URL-safe characters: 2^48 codes
CACHE_PREFIX = "shortlink:"
# How long a resolved code stays in Django's cache. ``link_forget_cache`` removes it when the link goes or
# its workspace's short-link domain changes; with the per-process cache (LocMemCache) that reaches only the
# process that made the change, so this also bounds how long another process can serve a removed link.
CACHE_SECONDS = 300

# Clients that are not people: link-preview fetchers, crawlers, monitors, command-line tools. Matched as
# lower-case substrings of the User-Agent; an empty User-Agent counts as a bot too. Deliberately short and
# generic (the networks' preview fetchers all say "bot", "externalhit", "preview" or "embed").
BOT_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "externalhit",
    "preview",
    "embed",
    "fetcher",
    "monitor",
    "headless",
    "curl/",
    "wget/",
    "python-requests",
    "go-http-client",
    "java/",
    "okhttp",
)

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'()]+[^\s<>\"'().,;:!?]")


def _require(workspace: Workspace, actor: User | None, action: Action = Action.CREATE_POST) -> None:
    if actor is None:
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), action)


def link_target_validate(*, url: str) -> str:
    """The target as stored; raises ValidationError for anything but an absolute http(s) address."""
    url = url.strip()
    if not url:
        raise ValidationError(_("Enter the address the link leads to."), code="required")
    if len(url) > TARGET_MAX:
        raise ValidationError(
            _("The address is too long (at most %(limit)s characters).") % {"limit": TARGET_MAX}, code="long"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationError(_("The address must not contain spaces or control characters."), code="space")
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValidationError(
            _("Only web addresses starting with http:// or https:// can be shortened."), code="scheme"
        )
    if not parts.hostname:
        raise ValidationError(_("The address has no host name."), code="host")
    return url


def utm_destination(*, target_url: str, utm: dict[str, str]) -> str:
    """The target with the UTM parameters set. The target's other query parameters are kept (in their
    order, blank values too); a UTM parameter given here replaces the target's own of the same name."""
    parts = urlsplit(target_url)
    given = {key: value for key, value in utm.items() if value}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in given]
    query += [(key, given[key]) for key in UTM_FIELDS if key in given]
    return urlunsplit(parts._replace(query=urlencode(query)))


def utm_presets(
    *, channel: Channel | None = None, campaign: Campaign | None = None, post: Post | None = None
) -> dict[str, str]:
    presets: dict[str, str] = {}
    if channel is not None:
        presets["utm_source"] = slugify(network_display_name(channel.network)) or "social"
        presets["utm_medium"] = "social"
    if campaign is not None:
        presets["utm_campaign"] = slugify(campaign.name)[:UTM_MAX]
    if post is not None:
        presets["utm_content"] = f"post-{post.pk}"
    return presets


def _clean_utm(utm: dict[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key in UTM_FIELDS:
        value = " ".join((utm.get(key) or "").split())
        if len(value) > UTM_MAX:
            errors[key] = _("At most %(limit)s characters.") % {"limit": UTM_MAX}
        cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def link_settings_update(*, workspace: Workspace, actor: User | None, base_url: str) -> LinkSettings:
    _require(workspace, actor, Action.MANAGE_WORKSPACE)
    base_url = base_url.strip().rstrip("/")
    if base_url:
        try:
            link_target_validate(url=base_url)
        except ValidationError as exc:
            raise ValidationError({"base_url": exc.messages}) from exc
    row, _created = LinkSettings.objects.update_or_create(
        workspace=workspace, defaults={"base_url": base_url}
    )
    # The cached targets carry ``rzl`` by the old domain (attribution_add): resolve them again.
    codes = list(ShortLink.objects.filter(workspace=workspace).values_list("code", flat=True))
    transaction.on_commit(lambda: codes_forget_cache(codes=codes))
    return row


def _owned[T: (Post, Channel, Campaign)](workspace: Workspace, obj: T | None) -> T | None:
    if obj is not None:
        ensure_same_workspace(workspace=workspace, obj_workspace_id=obj.workspace_id)
    return obj


def link_create(
    *,
    workspace: Workspace,
    actor: User | None,
    target_url: str,
    post: Post | None = None,
    channel: Channel | None = None,
    campaign: Campaign | None = None,
    utm: dict[str, str] | None = None,
) -> ShortLink:
    """A new short link (or, for a post and channel and target, the existing one)."""
    _require(workspace, actor)
    _owned(workspace, post)
    _owned(workspace, channel)
    _owned(workspace, campaign)
    if campaign is None and post is not None and post.campaign_id is not None:
        campaign = post.campaign
    try:
        target_url = link_target_validate(url=target_url)
    except ValidationError as exc:
        raise ValidationError({"target_url": exc.messages}) from exc
    values = utm_presets(channel=channel, campaign=campaign, post=post) | {
        k: v for k, v in _clean_utm(utm or {}).items() if v
    }
    if post is not None:
        existing = ShortLink.objects.filter(post=post, channel=channel, target_url=target_url).first()
        if existing is not None:
            return existing
    destination = utm_destination(target_url=target_url, utm=values)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ShortLink.objects.create(
                    workspace=workspace,
                    code=secrets.token_urlsafe(CODE_BYTES),
                    target_url=target_url,
                    destination=destination,
                    post=post,
                    channel=channel,
                    campaign=campaign,
                    created_by=actor,
                    **{key: values.get(key, "") for key in UTM_FIELDS},
                )
        except IntegrityError:
            # A code collision (or a concurrent create of the same post and channel link): try again.
            if post is not None:
                existing = ShortLink.objects.filter(post=post, channel=channel, target_url=target_url).first()
                if existing is not None:
                    return existing
    raise RuntimeError("no free short-link code after 5 attempts")


def link_short_url(*, workspace: Workspace, link: ShortLink) -> str:
    return f"{link_base_url(workspace=workspace)}/l/{link.code}"


@dataclass(frozen=True)
class ShortenedText:
    text: str
    links: list[ShortLink]


def text_links_shorten(
    *, workspace: Workspace, actor: User | None, post: Post, channel: Channel, text: str
) -> ShortenedText:
    """The text with every web address replaced by the short link for this post and channel (addresses that
    already are this workspace's short links stay)."""
    _owned(workspace, post)
    _owned(workspace, channel)
    base = link_base_url(workspace=workspace)
    made: list[ShortLink] = []

    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        if url.startswith(f"{base}/l/"):
            return url
        link = link_create(workspace=workspace, actor=actor, target_url=url, post=post, channel=channel)
        made.append(link)
        return link_short_url(workspace=workspace, link=link)

    return ShortenedText(text=_URL_IN_TEXT.sub(replace, text), links=made)


# -- the redirect's side: no workspace (the code is the key), no personal data -----------------------------


def is_bot(*, user_agent: str) -> bool:
    ua = user_agent.lower()
    return not ua or any(marker in ua for marker in BOT_MARKERS)


_salt_memo: dict[date, str] = {}


def daily_salt(*, day: date) -> str:
    """The salt of ``day`` (made on first use, shared by all processes through the database). Making a
    day's salt deletes the older ones: past hashes can no longer be linked to an address."""
    memo = _salt_memo.get(day)
    if memo is not None:
        return memo
    row = DailySalt.objects.filter(day=day).first()
    if row is None:
        try:
            with transaction.atomic():
                row = DailySalt.objects.create(day=day, salt=secrets.token_hex(32))
        except IntegrityError:
            row = DailySalt.objects.get(day=day)
        DailySalt.objects.filter(day__lt=day).delete()
    _salt_memo.clear()
    _salt_memo[day] = row.salt
    return row.salt


def visitor_hash(*, day: date, ip: str, user_agent: str) -> str:
    """Salted hash of (address, browser) for one day: equal for one visitor on one day, unrelated across
    days; the address itself is never stored."""
    if not ip:
        return ""
    digest = hashlib.blake2b(
        f"{ip}\n{user_agent}".encode(), key=daily_salt(day=day).encode()[:64], digest_size=16
    )
    return digest.hexdigest()


@dataclass(frozen=True)
class Target:
    link_id: int
    destination: str


class LinkMemo:
    """Code → target in this process for ``RESONANZ_LINK_MEMO_SECONDS`` (the redirect fast path's first
    look, before Django's cache): at most ``size`` codes, the oldest dropped first."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.entries: dict[str, tuple[float, Target]] = {}
        self.lock = threading.Lock()

    def get(self, *, code: str, now: float) -> Target | None:
        entry = self.entries.get(code)
        return entry[1] if entry is not None and entry[0] > now else None

    def put(self, *, code: str, target: Target, now: float) -> None:
        seconds = float(getattr(settings, "RESONANZ_LINK_MEMO_SECONDS", 5.0))
        with self.lock:
            self.entries.pop(code, None)
            if len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[code] = (now + seconds, target)

    def forget(self, *, codes: list[str]) -> None:
        with self.lock:
            for code in codes:
                self.entries.pop(code, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


link_memo = LinkMemo()


def link_resolve(*, code: str) -> Target | None:
    """The link behind a code: from the cache, else one indexed lookup (then cached)."""
    key = CACHE_PREFIX + code
    cached = cache.get(key)
    if cached is not None:
        return Target(link_id=cached[0], destination=cached[1]) if cached else None
    row = ShortLink.objects.filter(code=code).values_list("pk", "destination", "workspace_id").first()
    if row is None:
        # Unknown codes are cached too (as an empty tuple), for a short while: probing costs no query.
        cache.set(key, (), 60)
        return None
    destination = attribution_add(link_id=row[0], workspace_id=row[2], destination=row[1])
    cache.set(key, (row[0], destination), CACHE_SECONDS)
    return Target(link_id=row[0], destination=destination)


# -- attribution to this site's own pages (the link-in-bio page, hosted lead forms) ------------------------
#
# A short link that leads to a page of this site (its BASE_URL or the workspace's short-link domain) carries
# ``rzl=<signed link id>`` to it, so that a lead submitted there can be attributed to the link and through it
# to the post, channel and campaign. The value names a link, never a person; it is signed so that nobody can
# attribute leads to another link (or another workspace's link) by editing the address. It is computed once
# per code on the cache miss, so the redirect costs nothing more. Other sites get only the UTM parameters.

ATTRIBUTION_PARAM = "rzl"
_ATTRIBUTION_SALT = "resonanz.links.attribution"


def attribution_sign(*, link_id: int) -> str:
    return signing.Signer(salt=_ATTRIBUTION_SALT).sign(str(link_id))


def attribution_unsign(*, value: str) -> int | None:
    """The link id of a signed ``rzl`` value; None for a missing or forged one."""
    if not value:
        return None
    try:
        raw = signing.Signer(salt=_ATTRIBUTION_SALT).unsign(value)
    except signing.BadSignature:
        return None
    return int(raw) if raw.isdigit() else None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower())


def attribution_add(*, link_id: int, workspace_id: int, destination: str) -> str:
    """``destination`` with ``rzl`` added when it is a page of this site; otherwise unchanged."""
    own = {_origin(settings.BASE_URL)}
    base = LinkSettings.objects.filter(workspace_id=workspace_id).values_list("base_url", flat=True).first()
    if base:
        own.add(_origin(base))
    if _origin(destination) not in own:
        return destination
    parts = urlsplit(destination)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != ATTRIBUTION_PARAM]
    query.append((ATTRIBUTION_PARAM, attribution_sign(link_id=link_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))


class ClickBuffer:
    """Clicks collected in this process and written in one multi-row insert every ``seconds`` by a daemon
    thread, and at exit (``atexit``: gunicorn's graceful stop on SIGTERM, SIGINT, SIGQUIT, a worker
    recycled or timed out all leave through ``sys.exit``). Optional (``RESONANZ_CLICK_BUFFER_SECONDS`` > 0):
    it takes the database write out of the redirect; a process killed with SIGKILL (or by the kernel's
    out-of-memory killer) loses the clicks of at most the last ``seconds`` plus one write in flight.

    A write is one transaction (all rows or none), so nothing is written twice. A failed write keeps its
    rows for the next round (at most ``MAX_ROWS``, the oldest dropped beyond), except rows of links deleted
    meanwhile, which are dropped: their clicks went with the link."""

    MAX_ROWS = 200_000

    def __init__(self) -> None:
        self.rows: list[Click] = []
        self.lock = threading.Lock()  # guards ``rows``
        self.writing = threading.Lock()  # one write at a time; the exit flush waits for one in flight
        self.thread: threading.Thread | None = None

    def add(self, click: Click, *, seconds: float) -> None:
        with self.lock:
            self.rows.append(click)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, args=(seconds,), daemon=True, name="clicks")
                self.thread.start()
                atexit.register(self._flush_at_exit)

    def pending(self) -> int:
        return len(self.rows)

    def flush(self) -> int:
        """Write what is collected; the number of rows written. Raises on a failed write (rows kept)."""
        with self.writing:
            with self.lock:
                rows, self.rows = self.rows, []
            if not rows:
                return 0
            try:
                # Rows of links deleted since their click would fail the foreign key (and with it the whole
                # insert): one look-up of the links per write drops them. A link deleted between the two
                # statements fails this round; the next one drops its rows.
                live = set(
                    ShortLink.objects.filter(pk__in={r.link_id for r in rows}).values_list("pk", flat=True)
                )
                rows = [r for r in rows if r.link_id in live]
                Click.objects.bulk_create(rows, batch_size=1000)
            except Exception:
                with self.lock:
                    self.rows = (rows + self.rows)[-self.MAX_ROWS :]
                raise
            return len(rows)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("could not write %s buffered clicks at exit", self.pending())

    def _run(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            try:
                self.flush()
            except Exception:  # a failed write must not end the thread; its rows wait for the next round
                logger.exception("could not write buffered clicks (%s waiting)", self.pending())
            finally:
                close_old_connections()


click_buffer = ClickBuffer()


def click_buffer_seconds() -> float:
    return float(getattr(settings, "RESONANZ_CLICK_BUFFER_SECONDS", 0) or 0)


def click_record(*, link_id: int, ip: str, user_agent: str, now: datetime | None = None) -> Click | None:
    """One click, unless a bot made it: one insert (or, with the click buffer on, a row for the next
    multi-row insert)."""
    if is_bot(user_agent=user_agent):
        return None
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    click = Click(
        link_id=link_id, at=now, day=day, visitor=visitor_hash(day=day, ip=ip, user_agent=user_agent)
    )
    seconds = click_buffer_seconds()
    if seconds > 0:
        click_buffer.add(click, seconds=seconds)
    elif connection.vendor == "postgresql":
        # A click may be lost in a database crash, never half-written: without waiting for the WAL flush
        # the insert costs no disk round trip (synchronous_commit for this transaction only;
        # https://www.postgresql.org/docs/current/wal-async-commit.html).
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            click.save(force_insert=True)
    else:
        click.save(force_insert=True)
    return click


def codes_forget_cache(*, codes: list[str]) -> None:
    """Forget resolved codes in Django's cache and in this process's memo (a link deleted or changed)."""
    link_memo.forget(codes=codes)
    for start in range(0, len(codes), 1000):
        cache.delete_many([CACHE_PREFIX + code for code in codes[start : start + 1000]])


def link_forget_cache(*, link: ShortLink) -> None:
    codes_forget_cache(codes=[link.code])
