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

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

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
    cleaned = (text_normalise(text=text) if normalised is None else normalised).strip()
    if not LETTER.search(cleaned):
        return LanguageResult(language="other", confidence=0.0)
    ranking = language_identifier().rank(cleaned)
    probability = dict(ranking)
    top, top_p = ranking[0]
    if top_p <= 1.5 / len(CANDIDATES):
        return LanguageResult(language="other", confidence=0.0)
    p_de, p_en = probability.get("de", 0.0), probability.get("en", 0.0)
    best: Language = "de" if p_de >= p_en else "en"
    best_p = max(p_de, p_en)
    if top in {"de", "en"}:
        return LanguageResult(language=best, confidence=round(best_p, 4))
    if top_p < OTHER_MIN and best_p >= EVEN_SHARE * top_p:
        return LanguageResult(language=best, confidence=round(best_p, 4))
    return LanguageResult(language="other", confidence=round(top_p, 4))
