"""A mixed batch across the six networks, published through the real engine on their emulators (issue 9).

    .venv/bin/python bench/mixed_batch.py                          # 100 posts per network, all six
    .venv/bin/python bench/mixed_batch.py --posts 200 --networks facebook,x,mastodon
    .venv/bin/python bench/mixed_batch.py --separate               # also one run per network alone
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/mixed_batch.py  # scaled

What happens (everything on 127.0.0.1, in this process):

1. A fresh database (SQLite in a temp dir, or the empty PostgreSQL database ``DATABASE_URL`` names,
   migrated here), the emulators — ``MetaEmulator`` (Facebook Page and Instagram account),
   ``LinkedInEmulator``, ``XEmulator``, ``MastodonEmulator`` — and, when its node_modules are installed
   (``devservers/bluesky/install.sh``), the local real Bluesky network (PLC + PDS + AppView); a live
   Resonanz server for Instagram's image fetches (a post without a picture goes out as a text card that
   Instagram downloads from Resonanz's signed public address).
2. Setup (not measured): one channel per network connected through its real connect flow (OAuth against
   the emulators; an app password on the PDS), and N one-part text posts per network, scheduled through
   ``post_schedule`` (validated like any post), all due at once.
3. Measured: ``publishing_run_due`` — the body of the ``publish_due`` task — called until nothing is
   due: claims in batches, lanes per account in the thread pool, network slots, one transaction of
   successes per batch. Wall time from the first claim to the last PUBLISHED row → posts/s overall.
4. CPU: every connector ``publish_part`` call is timed with ``time.thread_time`` in the thread that runs
   it (the emulators' handlers run on other threads and are not counted), summed per network → CPU per
   post per network; the rest of the engine (claims, records, settling) is the main thread's own CPU
   minus the connector calls made on it → engine CPU per post, shared by all networks.
5. Checked: every variant PUBLISHED; on each network exactly one post per variant with its text (0
   duplicates: a text seen twice; 0 lost: a PUBLISHED variant whose text the network does not have).

The emulators run in this process, so the process's own CPU (``getrusage``) includes them: it is printed
beside the attributed figures, not used for them. Machine load (``/proc/loadavg``) is printed too.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.test")
_DATA = tempfile.mkdtemp(prefix="resonanz-mixed-")
os.environ["RESONANZ_DATA_DIR"] = _DATA

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

ALL_NETWORKS = ("instagram", "facebook", "linkedin", "x", "bluesky", "mastodon")


class Meter:
    """CPU of connector calls per network (``time.thread_time`` in the calling thread)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.in_main = 0.0
        self._lock = threading.Lock()
        self._main = threading.get_ident()

    def wrap(self, cls: Any) -> None:
        original = cls.publish_part
        network = cls.network

        def timed(connector: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return original(connector, **kwargs)
            finally:
                spent = time.thread_time() - started
                with self._lock:
                    self.cpu[network] += spent
                    self.calls[network] += 1
                    if threading.get_ident() == self._main:
                        self.in_main += spent

        cls.publish_part = timed

    def reset(self) -> None:
        self.cpu.clear()
        self.calls.clear()
        self.in_main = 0.0


def _oauth(network: str, workspace: Any, owner: Any, values: dict[str, str] | None = None) -> Any:
    from resonanz.channels.services import channel_connect_begin, channel_connect_complete

    url = channel_connect_begin(
        workspace=workspace,
        user=owner,
        network=network,
        values=values or {},
        redirect_uri=f"http://127.0.0.1:8000/channels/{network}/callback/",
    )
    answer = httpx.get(url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    return channel_connect_complete(user=owner, network=network, params=params)


@contextmanager
def live_server() -> Iterator[str]:
    """Resonanz itself on a free port (Instagram downloads the text cards from it)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()


def bluesky_available() -> bool:
    return (ROOT / "devservers" / "bluesky" / "node_modules" / "@atproto" / "dev-env").exists()


class Networks:
    """The emulators (and the Bluesky network), each channel connected, and how to read back posts."""

    def __init__(
        self, stack: ExitStack, wanted: list[str], workspace: Any, owner: Any, *, image_checks: int
    ) -> None:
        from resonanz.channels.models import Channel
        from testsupport.emulators.linkedin import LinkedInEmulator
        from testsupport.emulators.mastodon import MastodonEmulator
        from testsupport.emulators.meta import MetaEmulator
        from testsupport.emulators.x import XEmulator

        self.channels: dict[str, Any] = {}
        self.readers: dict[str, Callable[[], list[str]]] = {}
        if {"facebook", "instagram"} & set(wanted):
            settings.RESONANZ_PUBLIC_URL = stack.enter_context(live_server())
            settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = True
            meta = stack.enter_context(MetaEmulator())
            os.environ.update(
                RESONANZ_FACEBOOK_APP_ID=meta.app_id,
                RESONANZ_FACEBOOK_APP_SECRET=meta.app_secret,
                RESONANZ_FACEBOOK_API_URL=meta.base_url,
                RESONANZ_FACEBOOK_LOGIN_URL=meta.base_url,
            )
            # Polls answered IN_PROGRESS before FINISHED per image container; the connector waits
            # ``poll_interval`` (2 s) after each, and one account is one lane: this bounds Instagram's rate.
            meta.image_checks = image_checks
            page = meta.default_page
            if "instagram" in wanted:
                ig_user = meta.create_ig_user(page, "resonanz.bench")
                ig_user.quota_total = 10**6  # the 100-a-day publishing limit would end the bench
                self.channels["instagram"] = _oauth("instagram", workspace, owner)
                self.readers["instagram"] = lambda: [str(m.caption) for m in meta.live_ig_media(ig_user)]
            if "facebook" in wanted:
                self.channels["facebook"] = _oauth("facebook", workspace, owner)
                self.readers["facebook"] = lambda: [p.message for p in meta.live_posts(page)]
        if "linkedin" in wanted:
            li = stack.enter_context(LinkedInEmulator())
            os.environ.update(
                RESONANZ_LINKEDIN_CLIENT_ID=li.client_id,
                RESONANZ_LINKEDIN_CLIENT_SECRET=li.client_secret,
                RESONANZ_LINKEDIN_API_URL=li.base_url,
            )
            self.channels["linkedin"] = _oauth("linkedin", workspace, owner, {"organization": "page"})
            org = li.default_organization.urn
            self.readers["linkedin"] = lambda: [p.text for p in li.live_posts(org)]
        if "x" in wanted:
            import testsupport.emulators.x as x_emulator

            # X's 200 creates per 15 minutes and user would stop the runs after the first (the rate
            # limit path has its own tests); the bench measures publishing, not waiting.
            x_emulator.CREATE_WINDOW = (10**6, 900)
            xe = stack.enter_context(XEmulator())
            os.environ.update(
                RESONANZ_X_CLIENT_ID=xe.client_id,
                RESONANZ_X_API_URL=xe.base_url,
                RESONANZ_X_AUTHORIZE_URL=xe.base_url + "/i/oauth2/authorize",
            )
            self.channels["x"] = _oauth("x", workspace, owner)
            self.readers["x"] = lambda: [p.text for p in xe.live_posts()]
        if "mastodon" in wanted:
            masto = stack.enter_context(MastodonEmulator(rate_limit=10**9))
            account = masto.account(masto.config.default_username)
            self.channels["mastodon"] = Channel.objects.create(
                workspace=workspace,
                network="mastodon",
                base_url=masto.base_url,
                remote_id=str(account.id),
                handle=f"{account.username}@{masto.domain}",
                credentials={"access_token": masto.issue_token()},
            )
            self.readers["mastodon"] = lambda: [str(s.get("text") or "") for s in masto.statuses]
        if "bluesky" in wanted:
            from testsupport.servers.bluesky import BlueskyTestNetwork

            started = time.perf_counter()
            net = stack.enter_context(BlueskyTestNetwork())
            print(f"  bluesky: local network started in {time.perf_counter() - started:.1f} s")
            brand = net.create_account("bench.test", "bench-main-password", "bench@example.com")
            self.channels["bluesky"] = Channel.objects.create(
                workspace=workspace,
                network="bluesky",
                base_url=net.pds_url,
                remote_id=brand.did,
                handle=brand.handle,
                credentials={
                    "access_jwt": brand.access_jwt,
                    "refresh_jwt": brand.refresh_jwt,
                    "did": brand.did,
                },
            )

            def read_bluesky() -> list[str]:
                texts, cursor = [], None
                while True:
                    params: dict[str, Any] = {
                        "repo": brand.did,
                        "collection": "app.bsky.feed.post",
                        "limit": 100,
                    }
                    if cursor:
                        params["cursor"] = cursor
                    page = net.xrpc_get("com.atproto.repo.listRecords", params)
                    texts += [str(r["value"].get("text") or "") for r in page.get("records", [])]
                    cursor = page.get("cursor")
                    if not cursor or not page.get("records"):
                        return texts

            self.readers["bluesky"] = read_bluesky


def schedule(
    workspace: Any, owner: Any, channels: dict[str, Any], per_network: int, run: str
) -> dict[int, str]:
    """N one-part text posts per network, due now; returns {variant id: text}."""
    from resonanz.posts.models import Variant
    from resonanz.posts.services import PostInput, post_create, post_schedule

    texts: dict[int, str] = {}
    for network, channel in channels.items():
        for number in range(per_network):
            text = f"Bench {run} {network} {number}: Neu bei uns, die Frühlingskollektion"
            post = post_create(
                workspace=workspace, author=owner, data=PostInput(text=text, channel_ids=[channel.pk])
            )
            post_schedule(workspace=workspace, post=post, actor=owner, at=None)
            texts[Variant.objects.get(post=post).pk] = text
    return texts


def run(
    label: str, workspace: Any, owner: Any, nets: Networks, wanted: list[str], n: int, meter: Meter
) -> dict[str, Any]:
    from django.db.models import Max
    from django.utils import timezone

    from resonanz.posts.models import Variant, VariantStatus
    from resonanz.publishing.batch import publishing_run_due

    channels = {k: v for k, v in nets.channels.items() if k in wanted}
    texts = schedule(workspace, owner, channels, n, label)
    meter.reset()
    started_at = timezone.now()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    main_cpu, wall = time.thread_time(), time.perf_counter()
    deadline = wall + 600
    while Variant.objects.filter(
        pk__in=texts, status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING]
    ).exists():
        publishing_run_due(spawn=None)
        if time.perf_counter() > deadline:
            print("  stopped: not done after 600 s")
            break
    wall = time.perf_counter() - wall
    main_cpu = time.thread_time() - main_cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    process_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    statuses = Counter(Variant.objects.filter(pk__in=texts).values_list("status", flat=True))
    published = set(
        Variant.objects.filter(pk__in=texts, status=VariantStatus.PUBLISHED).values_list("pk", flat=True)
    )
    total = len(texts)
    engine_cpu = main_cpu - meter.in_main
    print(f"\n{label}: {total} posts ({', '.join(f'{n} {k}' for k in channels)}), {wall:.2f} s wall")
    print(f"  overall: {total / wall:.0f} posts/s; statuses {dict(statuses)}")
    print(
        f"  engine (claims, records; main thread minus connector calls): "
        f"{engine_cpu / total * 1e3:.2f} ms CPU/post"
    )
    print(f"  process CPU incl. the in-process emulators: {process_cpu / total * 1e3:.2f} ms/post")
    print(
        f"  {'network':10} {'calls':>6} {'CPU/post':>10} {'dupl.':>6} {'lost':>5} "
        f"{'last at':>10} {'posts/s':>8}"
    )
    figures: dict[str, Any] = {
        "posts_per_s": total / wall,
        "engine_ms": engine_cpu / total * 1e3,
        "networks": {},
    }
    by_network: dict[str, list[int]] = defaultdict(list)
    prefix = f"Bench {label} "
    for pk, text in texts.items():
        by_network[text.split(" ")[2]].append(pk)
    duplicates_all = lost_all = 0
    for network, pks in by_network.items():
        seen = Counter(t for t in nets.readers[network]() if t.startswith(prefix))
        duplicates = sum(c - 1 for c in seen.values() if c > 1)
        lost = sum(1 for pk in pks if pk in published and seen[texts[pk]] == 0) + sum(
            1 for pk in pks if pk not in published
        )
        duplicates_all += duplicates
        lost_all += lost
        calls = meter.calls[network]
        cpu_ms = meter.cpu[network] / max(1, len(pks)) * 1e3
        last = Variant.objects.filter(pk__in=pks).aggregate(last=Max("published_at"))["last"]
        done = (last - started_at).total_seconds() if last else float("nan")
        figures["networks"][network] = {
            "cpu_ms": cpu_ms,
            "duplicates": duplicates,
            "lost": lost,
            "done_s": done,
        }
        print(
            f"  {network:10} {calls:6} {cpu_ms:8.2f} ms {duplicates:6} {lost:5} "
            f"{done:8.2f} s {len(pks) / done:8.0f}"
        )
    print(f"  duplicates {duplicates_all}, lost {lost_all}")
    for code, error in (
        Variant.objects.filter(pk__in=texts)
        .exclude(status=VariantStatus.PUBLISHED)
        .values_list("last_error_code", "last_error")
        .distinct()[:5]
    ):
        print(f"  not published: {code} {error[:200]}")
    figures["duplicates"], figures["lost"] = duplicates_all, lost_all
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100, help="posts per network")
    parser.add_argument("--networks", default=",".join(ALL_NETWORKS))
    parser.add_argument(
        "--ig-image-checks",
        type=int,
        default=1,
        help="status polls an Instagram image container answers IN_PROGRESS (emulator default 1; 0 = ready "
        "at the first poll, no 2 s wait)",
    )
    parser.add_argument("--separate", action="store_true", help="also one run per network alone")
    args = parser.parse_args()
    wanted = [n for n in args.networks.split(",") if n]
    if "bluesky" in wanted and not bluesky_available():
        print("bluesky: skipped (run devservers/bluesky/install.sh for the local network)")
        wanted.remove("bluesky")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    from resonanz.accounts.models import User
    from resonanz.accounts.services import organisation_create, workspace_create
    from resonanz.connectors.registry import get_connector

    owner = User.objects.create_user(email="bench@example.com", password="bench-password-1")  # noqa: S106
    org = organisation_create(name="Bench", owner=owner)
    workspace = workspace_create(organisation=org, name="Mixed", owner=owner)
    meter = Meter()
    for network in wanted:
        meter.wrap(type(get_connector(network)))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"mixed batch: {args.posts} posts per network, {os.cpu_count()} cores, load {' '.join(load)}")
    print(
        f"  database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"batch size {settings.RESONANZ_PUBLISH_BATCH_SIZE}"
    )
    with ExitStack() as stack:
        nets = Networks(stack, wanted, workspace, owner, image_checks=args.ig_image_checks)
        run("warmup", workspace, owner, nets, wanted, 5, meter)
        mixed = run("mixed", workspace, owner, nets, wanted, args.posts, meter)
        if args.separate:
            for network in wanted:
                alone = run(f"alone-{network}", workspace, owner, nets, [network], args.posts, meter)
                share = alone["networks"][network]["cpu_ms"]
                print(
                    f"  {network} alone vs in the mix: {share:.2f} vs "
                    f"{mixed['networks'][network]['cpu_ms']:.2f} ms CPU/post"
                )
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload at the end {' '.join(load)}")
    return 1 if mixed["duplicates"] or mixed["lost"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
