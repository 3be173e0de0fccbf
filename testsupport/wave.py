"""A synthetic negative wave on the real local Bluesky network: a planned cascade of negative posts about a
brand, with reposts and quotes of them by other accounts, written to the network on a simulated clock.

The plan is drawn from the branching model the projection fits (each event has Poisson(R) reshares after
Exp(theta) delays), limited by what the network allows: an account reposts a post at most once and never
its own. Records carry the simulated time as ``createdAt`` (the AppView sorts by it); the network indexes
them at once, so a listening poll with ``now=`` a simulated instant sees everything written up to it.
Used by the early-warning measurement (``listening/tests/test_wave_bluesky.py``) and the done-when journey.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from testsupport.servers.bluesky import Account, BlueskyTestNetwork, StrongRef

NEGATIVE_TEXTS = (
    "{brand} Router schon wieder offline, absolute Katastrophe. Nie wieder!",
    "Der {brand} Support ist eine Frechheit, seit drei Tagen kein Internet.",
    "Finger weg von {brand}, totaler Schrott und miserabler Service.",
    "{brand} hat mein Geld genommen und liefert nicht. Betrug!",
    "Mein {brand} ist furchtbar langsam, ich bin wütend.",
    "{brand}: schlechtester Kundendienst überhaupt, enttäuschend.",
)
QUOTE_TEXTS = ("Genau das Gleiche bei mir.", "Kann ich bestätigen, furchtbar.", "Unglaublich, teilt das!")


@dataclass
class WaveEvent:
    at: datetime
    kind: str  # "post", "repost", "quote"
    author: int  # index into the wave's accounts
    root: int  # index of the root post this event descends from
    subject: int | None = None  # index of the event it reshares (a post or a quote)
    text: str = ""
    ref: StrongRef | None = None  # set when written


@dataclass
class WavePlan:
    events: list[WaveEvent] = field(default_factory=list)

    def reshares_of_roots_between(self, roots: set[int], start: datetime, end: datetime) -> int:
        """Reshares descending from ``roots`` made in (start, end]: what the projection predicts."""
        return sum(1 for e in self.events if e.kind != "post" and e.root in roots and start < e.at <= end)


def wave_plan(
    *,
    start: datetime,
    brand: str,
    accounts: int,
    roots: int,
    root_minutes: float,
    r: float,
    mean_delay_minutes: float,
    hours: float,
    quote_share: float = 0.3,
    seed: int = 0,
) -> WavePlan:
    """``roots`` negative posts at even intervals over ``root_minutes`` from ``start``, and their cascades
    up to ``hours`` after ``start``."""
    rng = random.Random(seed)
    plan = WavePlan()
    end = start + timedelta(hours=hours)
    # Per post (a root or a quote): who has reshared it already (an account reposts a post once).
    resharers: dict[int, set[int]] = {}
    frontier: list[int] = []
    for k in range(roots):
        author = k % accounts
        at = start + timedelta(minutes=root_minutes * k / max(roots, 1))
        text = NEGATIVE_TEXTS[k % len(NEGATIVE_TEXTS)].format(brand=brand)
        plan.events.append(WaveEvent(at=at, kind="post", author=author, root=k, text=text))
        resharers[len(plan.events) - 1] = {author}
        frontier.append(len(plan.events) - 1)
    # Each event's children reshare the tree's post: a repost spreads the post it reposts, a quote is a
    # new post that is reshared itself.
    tree_of: dict[int, int] = {i: i for i in frontier}
    while frontier:
        nxt: list[int] = []
        for parent_index in frontier:
            parent = plan.events[parent_index]
            children = _poisson(rng, r)
            for _child in range(children):
                at = parent.at + timedelta(minutes=rng.expovariate(1 / mean_delay_minutes))
                if at > end:
                    continue
                post_index = parent_index if parent.kind in ("post", "quote") else tree_of[parent_index]
                free = [a for a in range(accounts) if a not in resharers[post_index]]
                if not free:
                    continue
                who = rng.choice(free)
                resharers[post_index].add(who)
                kind = "quote" if rng.random() < quote_share else "repost"
                plan.events.append(
                    WaveEvent(
                        at=at,
                        kind=kind,
                        author=who,
                        root=parent.root,
                        subject=post_index,
                        text=rng.choice(QUOTE_TEXTS) if kind == "quote" else "",
                    )
                )
                index = len(plan.events) - 1
                if kind == "quote":
                    resharers[index] = {who}
                    tree_of[index] = index
                else:
                    tree_of[index] = post_index
                nxt.append(index)
        frontier = nxt
    return plan


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wave_write(*, net: BlueskyTestNetwork, plan: WavePlan, accounts: list[Account], until: datetime) -> int:
    """Write every planned event up to ``until`` not written yet, in time order; wait until the AppView
    shows them. Return how many were written."""
    written: list[WaveEvent] = []
    for event in sorted((e for e in plan.events if e.ref is None and e.at <= until), key=lambda e: e.at):
        account = accounts[event.author]
        record: dict[str, Any] = {"createdAt": _iso(event.at)}
        if event.kind == "post":
            event.ref = net.post(account, event.text, langs=["de"], extra=record)
        else:
            subject = plan.events[event.subject or 0].ref
            assert subject is not None, "a reshare's subject is written before it (time order)"
            if event.kind == "repost":
                event.ref = net.create_record(
                    account, "app.bsky.feed.repost", {"subject": subject.as_dict(), **record}
                )
            else:
                embed = {"$type": "app.bsky.embed.record", "record": subject.as_dict()}
                event.ref = net.post(account, event.text, langs=["de"], extra={"embed": embed, **record})
        written.append(event)
    _wait_indexed(net, plan, written)
    return len(written)


def _wait_indexed(net: BlueskyTestNetwork, plan: WavePlan, written: list[WaveEvent]) -> None:
    """The AppView indexes asynchronously: wait until every touched post shows its reposts and quotes."""
    want: dict[int, tuple[int, int]] = {}
    for index, event in enumerate(plan.events):
        if event.ref is None:
            continue
        if event.kind in ("post", "quote"):
            want.setdefault(index, (0, 0))
        if event.kind in ("repost", "quote") and event.subject is not None:
            reposts, quotes = want.get(event.subject, (0, 0))
            want[event.subject] = (reposts + (event.kind == "repost"), quotes + (event.kind == "quote"))
    touched = {e.subject for e in written if e.subject is not None} | {
        plan.events.index(e) for e in written if e.kind != "repost"
    }
    deadline = time.monotonic() + 30
    pending = sorted(touched)
    while pending and time.monotonic() < deadline:
        uris = {str(plan.events[i].ref.uri): i for i in pending if plan.events[i].ref is not None}  # type: ignore[union-attr]
        still = []
        for chunk in _chunks(list(uris), 25):
            body = net.xrpc_get("app.bsky.feed.getPosts", {"uris": chunk}, base_url=net.appview_url)
            seen = {str(p["uri"]): p for p in body.get("posts") or []}
            for uri in chunk:
                post = seen.get(uri)
                reposts, quotes = want[uris[uri]]
                if post is None or post.get("repostCount", 0) < reposts or post.get("quoteCount", 0) < quotes:
                    still.append(uris[uri])
        pending = still
        if pending:
            time.sleep(0.2)
    if pending:
        raise TimeoutError(f"the AppView did not index {len(pending)} posts in 30 s")


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def wave_accounts(net: BlueskyTestNetwork, *, count: int, prefix: str = "kunde") -> list[Account]:
    """``count`` accounts; account k is followed by the k accounts before it (follower counts 0 … k)."""
    accounts = [
        net.create_account(f"{prefix}{k}.test", f"{prefix}-{k}-password", f"{prefix}{k}@example.com")
        for k in range(count)
    ]
    for k, target in enumerate(accounts):
        for follower in accounts[:k]:
            net.create_record(
                follower,
                "app.bsky.graph.follow",
                {"subject": target.did, "createdAt": _iso(datetime.now(UTC))},
            )
    return accounts
