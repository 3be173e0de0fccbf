"""text_analyse: the language and sentiment of one inbox message, offline (docs/language.md)."""

from __future__ import annotations

from dataclasses import dataclass

from .detection import Language, language_detect, languages_detect
from .features import text_normalise
from .sentiment import Label, Tier, sentiment_classify, sentiment_classify_many


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    language: Language
    language_confidence: float
    sentiment: Label
    # Probability per label; the sentiment is the largest.
    probabilities: dict[Label, float]
    # Why: the words that weighed most towards the sentiment, strongest first, (word, weight).
    reasons: list[tuple[str, float]]
    tier: Tier

    @property
    def score(self) -> float:
        """One number in [-1, 1]: p(positive) - p(negative)."""
        return round(self.probabilities["positive"] - self.probabilities["negative"], 4)


def text_analyse(*, text: str, tier: Tier = "combined") -> TextAnalysis:
    """Language (de / en / other) and sentiment of ``text``; the models load once per process.

    tier="fast" skips the embedding model (pure Python, ~50x faster, a little less accurate).
    """
    language = language_detect(text=text)
    sentiment = sentiment_classify(text=text, tier=tier)
    return TextAnalysis(
        language=language.language,
        language_confidence=language.confidence,
        sentiment=sentiment.label,
        probabilities=sentiment.probabilities,
        reasons=sentiment.reasons,
        tier=tier,
    )


def texts_analyse(*, texts: list[str], tier: Tier = "combined") -> list[TextAnalysis]:
    """``text_analyse`` for many texts, embedding them in one batch (about ten times the throughput of
    one at a time: docs/language.md); the results are in the order of ``texts``."""
    # Normalised once (NFC, URLs and handles out) for both the sentiment's tokens and the language.
    normalised = [text_normalise(text=text) for text in texts]
    sentiments = sentiment_classify_many(texts=texts, tier=tier, normalised=normalised)
    languages = languages_detect(texts=texts, normalised=normalised)
    results = []
    for language, sentiment in zip(languages, sentiments, strict=True):
        results.append(
            TextAnalysis(
                language=language.language,
                language_confidence=language.confidence,
                sentiment=sentiment.label,
                probabilities=sentiment.probabilities,
                reasons=sentiment.reasons,
                tier=tier,
            )
        )
    return results
