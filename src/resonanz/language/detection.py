"""Language of a message: German, English or other, with py3langid (BSD-3-Clause; its model is inside the
wheel).

Restricted to de/en, py3langid tells German from English reliably but cannot say "other". So it runs over
CANDIDATES, the languages a German or English brand's inbox plausibly sees (over all of py3langid's labels,
short German comments went to Luxembourgish or Latvian), with normalised probabilities (``norm_probs=True``):
- the top language is de or en: that language;
- another language is clearly ahead (probability >= OTHER_MIN): other ("Merci beaucoup", Spanish, Polish);
- nothing is clear (short texts such as "Danke!", where probabilities spread over many languages): the more
  likely of de/en if it comes within EVEN_SHARE of the top language, else other;
- no letters at all (emoji, a URL, empty), or no feature py3langid knows (uniform probabilities, "ok"):
  other with confidence 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
import regex

from .features import text_normalise

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

Language = Literal["de", "en", "other"]
OTHER_MIN = 0.5
EVEN_SHARE = 0.5
LETTER = regex.compile(r"\p{L}")
CANDIDATES = (
    "de", "en", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "da", "sv", "no", "fi", "tr", "ru", "uk",
    "el", "hu", "ro", "hr", "bg", "ar", "he", "fa", "zh", "ja", "ko", "hi", "id", "vi", "th",
)


@dataclass(frozen=True, slots=True)
class LanguageResult:
    language: Language
    confidence: float  # probability of the chosen language ("other": of the most likely other language)


@lru_cache(maxsize=1)
def language_identifier() -> LanguageIdentifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def language_detect(*, text: str, normalised: str | None = None) -> LanguageResult:
    """``normalised``: ``text_normalise(text=text)`` when the caller has it already (``texts_analyse``)."""
    return languages_detect(texts=[text], normalised=None if normalised is None else [normalised])[0]


def languages_detect(*, texts: list[str], normalised: list[str] | None = None) -> list[LanguageResult]:
    """``language_detect`` for many texts, in the order of ``texts``: py3langid's feature walk for each,
    then its naive-Bayes scores for the batch in one array computation (``_probabilities``)."""
    cleaned = [
        clean.strip()
        for clean in (normalised if normalised is not None else [text_normalise(text=t) for t in texts])
    ]
    lettered = [i for i, clean in enumerate(cleaned) if LETTER.search(clean)]
    results = [LanguageResult(language="other", confidence=0.0)] * len(cleaned)
    if not lettered:
        return results
    identifier = language_identifier()
    probabilities = _probabilities(identifier, [cleaned[i] for i in lettered])
    labels: list[str] = identifier.nb_classes
    de, en = labels.index("de"), labels.index("en")
    for i, row in zip(lettered, probabilities.tolist(), strict=True):
        top_p = max(row)
        top = labels[row.index(top_p)]  # the first largest, as py3langid's rank (a stable sort)
        results[i] = _decide(top=top, top_p=top_p, p_de=row[de], p_en=row[en])
    return results


def _decide(*, top: str, top_p: float, p_de: float, p_en: float) -> LanguageResult:
    if top_p <= 1.5 / len(CANDIDATES):
        return LanguageResult(language="other", confidence=0.0)
    best: Language = "de" if p_de >= p_en else "en"
    best_p = max(p_de, p_en)
    if top in {"de", "en"}:
        return LanguageResult(language=best, confidence=round(best_p, 4))
    if top_p < OTHER_MIN and best_p >= EVEN_SHARE * top_p:
        return LanguageResult(language=best, confidence=round(best_p, 4))
    return LanguageResult(language="other", confidence=round(top_p, 4))


def _probabilities(identifier: LanguageIdentifier, texts: list[str]) -> np.ndarray:
    """py3langid's normalised probabilities over CANDIDATES (``LanguageIdentifier._decide`` with
    ``norm_probs=True``: log1p of the feature counts times the per-class table, plus the class prior,
    scaled by 1/sqrt(bytes), softmax), one row per text, computed for the batch at once: per text, the
    numpy calls cost py3langid more than its feature walk (0.4.0; bench/ingest.py). The same sums in
    another order, so a probability may differ in its last float32 digits; ``test_detection`` checks the
    decisions against py3langid's own ``rank``. Our candidates have no aliased label (asserted)."""
    if identifier._alias_pairs:
        raise TypeError("aliased labels among the candidates: py3langid's rank folds them")
    from py3langid.langid import visit_counts  # with the model: loaded in the processes that judge

    nextmove, rowbase, output = identifier.tk_nextmove, identifier._rowbase, identifier.tk_output
    scores = np.zeros((len(texts), identifier.nb_ptc.shape[1]), dtype=np.float32)
    scale = np.empty(len(texts), dtype=np.float32)
    indexes: list[int] = []
    counts: list[int] = []
    starts: list[int] = []  # where each text with features begins in ``indexes``
    featured: list[int] = []
    for row, text in enumerate(texts):
        encoded = identifier._encode(text)  # lower-cased when all upper, NFC, UTF-8
        scale[row] = 1.0 / math.sqrt(len(encoded) or 1)
        visits = visit_counts(nextmove, rowbase, output, encoded)
        if visits is None:
            continue  # no feature: 0 before the softmax, uniform after it (py3langid abstains)
        starts.append(len(indexes))
        featured.append(row)
        indexes += visits.keys()
        counts += visits.values()
    if featured:
        weighted = np.log1p(np.asarray(counts, dtype=np.float32))[:, None] * identifier.nb_ptc[indexes]
        scores[featured] = np.add.reduceat(weighted, starts, axis=0) + identifier.nb_pc
    scores *= scale[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return cast("np.ndarray", scores / scores.sum(axis=1, keepdims=True))
