"""Forecast error against the last-five baseline on a held-out split (issue 11, item 6).

1. A fresh SQLite database in a temporary directory (the test settings), migrated.
2. Per seed one workspace (Europe/Berlin) with three channels and ``--weeks`` of synthetic history
   (``testsupport/forecasting.py``: weekly seasonality, growth, heavy-tailed reach, media/link/campaign
   effects, one channel with impressions, two with interactions only), stored as published posts with
   metric samples.
3. ``forecasting.services.forecast_model_fit`` for each workspace, i.e. the product's own path: read the
   history from the database, train on the earliest 80 % in time, test on the latest 20 %, compare with
   the average of each channel's last five posts before the post.
4. Prints MAE (reach) and MAE on the log1p scale of model and baseline, their ratio, the 80 % interval's
   coverage, per seed and pooled; writes JSON to ``artifacts/bench/forecast.json``.

    .venv/bin/python bench/forecast.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

ARTIFACTS = Path(os.environ.get("RESONANZ_ARTIFACTS", ROOT / "artifacts")) / "bench"
TZ = "Europe/Berlin"


def setup(data_dir: Path) -> None:
    os.environ["RESONANZ_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "resonanz.config.settings.test"
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def one_seed(seed: int, weeks: int, end: datetime) -> dict[str, Any]:
    from resonanz.accounts.models import User
    from resonanz.accounts.services import organisation_create, workspace_create
    from resonanz.campaigns.services import campaign_create
    from resonanz.channels.models import Channel
    from resonanz.forecasting.services import forecast_model_fit
    from testsupport.forecasting import history_plan, history_write

    owner = User.objects.create_user(email=f"bench{seed}@example.com", password=None)
    org = organisation_create(name=f"Bench {seed}", owner=owner)
    workspace = workspace_create(organisation=org, name=f"Bench {seed}", owner=owner, time_zone=TZ)
    channels = [
        Channel.objects.create(
            workspace=workspace,
            network="mastodon",
            base_url="https://social.example",
            handle=f"brand{i}",
            remote_id=f"bench-{seed}-{i}",
            credentials={"access_token": "x"},
        )
        for i in range(3)
    ]
    campaign = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="reach")
    plan = history_plan(seed=seed, weeks=weeks, end=end, time_zone=TZ)
    posts = history_write(workspace=workspace, author=owner, channels=channels, plan=plan, campaign=campaign)
    started = time.perf_counter()
    stored = forecast_model_fit(workspace=workspace)
    fit_seconds = time.perf_counter() - started
    if stored is None:
        raise SystemExit(f"seed {seed}: too little history for a model")
    return {"seed": seed, "posts": posts, "fit_seconds": round(fit_seconds, 2), **stored.evaluation}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="number of synthetic workspaces (seeds 1..n)")
    parser.add_argument("--weeks", type=int, default=26, help="weeks of history per workspace")
    ns = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="resonanz-bench-forecast-"))
    try:
        setup(data_dir)
        end = datetime(2026, 11, 1, tzinfo=UTC)
        rows = [one_seed(seed, ns.weeks, end) for seed in range(1, ns.seeds + 1)]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    header = (
        f"{'seed':>4} {'posts':>5} {'test':>4} {'MAE model':>10} {'MAE last-5':>10} {'ratio':>6} "
        f"{'logMAE m':>8} {'logMAE b':>8} {'cover80':>7} {'lambda':>6} {'fit s':>5}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['seed']:>4} {r['posts']:>5} {r['test_posts']:>4} {r['model_mae']:>10.1f}"
            f" {r['baseline_mae']:>10.1f} {r['ratio']:>6.3f} {r['model_mae_log']:>8.3f}"
            f" {r['baseline_mae_log']:>8.3f} {r['coverage']:>7.2f} {r['lam']:>6g} {r['fit_seconds']:>5.2f}"
        )
    tests = sum(r["test_posts"] for r in rows)
    pooled = {
        "test_posts": tests,
        "model_mae": sum(r["model_mae"] * r["test_posts"] for r in rows) / tests,
        "baseline_mae": sum(r["baseline_mae"] * r["test_posts"] for r in rows) / tests,
        "model_mae_log": sum(r["model_mae_log"] * r["test_posts"] for r in rows) / tests,
        "baseline_mae_log": sum(r["baseline_mae_log"] * r["test_posts"] for r in rows) / tests,
        "coverage": sum(r["coverage"] * r["test_posts"] for r in rows) / tests,
    }
    pooled["ratio"] = pooled["model_mae"] / pooled["baseline_mae"]
    pooled["ratio_log"] = pooled["model_mae_log"] / pooled["baseline_mae_log"]
    print(
        f"pooled over {tests} held-out posts: MAE model {pooled['model_mae']:.1f}, last-five average "
        f"{pooled['baseline_mae']:.1f}, ratio {pooled['ratio']:.3f}; log1p MAE "
        f"{pooled['model_mae_log']:.3f} vs {pooled['baseline_mae_log']:.3f} "
        f"(ratio {pooled['ratio_log']:.3f}); 80 % interval covers "
        f"{pooled['coverage']:.0%}"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / "forecast.json"
    out.write_text(json.dumps({"weeks": ns.weeks, "seeds": rows, "pooled": pooled}, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
