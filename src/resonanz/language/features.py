"""Tokens and features of the fast sentiment tier, shared by the runtime and the training script.

Pure Python on purpose: the runtime reads a stored weight per feature (``data/sentiment_model.json``), so
that the words that weighed most are the explanation (docs/language.md). Each feature remembers the token
it came from, so a bigram or a compound's character n-gram is credited to the words a reader sees.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import regex

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
HANDLE = re.compile(r"(?<!\w)@[\w.]+")
# A word (letters, inner apostrophe or hyphen), an emoji or symbol, or sentence punctuation. \p{Extended_
# Pictographic} is Unicode's emoji property (UTS #51); the regex module knows it, re does not.
TOKEN = regex.compile(
    r"[\p{L}\p{M}]+(?:['\u2019\-][\p{L}\p{M}]+)*|\p{Extended_Pictographic}|[:;]-?[()DPp](?!\w)|[!?]+|[.,;:()]"
)
CLAUSE_END = frozenset({".", ",", ";", ":", "(", ")"})
# Negators: German and English. "kein" and its forms negate the noun phrase after them; English contractions
# ("don't", "isn't") are negators as a whole token.
NEGATORS = frozenset(
    {
        "nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts",
        "niemand", "weder", "ohne", "not", "no", "never", "nothing", "nobody", "none", "neither", "nor",
        "without", "cannot", "hardly", "barely", "kaum",
    }
)
NEGATION_SCOPE = 3
# German puts "nicht" after the verb ("Das gefällt mir nicht."): a negator that closes its clause negates
# the words before it instead.
COMPOUND_MIN = 7
CHAR_N = 5


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written, for explanations
    norm: str  # lower-cased; "¬" prefix when inside a negation's scope


def text_normalise(*, text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = URL.sub(" ", text)
    return HANDLE.sub(" ", text)


def _is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith(("n't", "n\u2019t"))


def text_tokens(*, text: str, normalised: str | None = None) -> list[Token]:
    """Words, emoji and punctuation, with the words in a negation's scope marked ("¬gut").
    ``normalised``: ``text_normalise(text=text)`` when the caller has it already (the first pass shares
    it with the language detection)."""
    raw: list[str] = TOKEN.findall(text_normalise(text=text) if normalised is None else normalised)
    lower = [w.lower().replace("\u2019", "'") for w in raw]
    negated = [False] * len(raw)
    for i, word in enumerate(lower):
        if not _is_negator(word):
            continue
        after = i + 1 < len(lower) and lower[i + 1] not in CLAUSE_END and lower[i + 1][0] not in "!?"
        if after:
            j = i + 1
            while j < len(lower) and j <= i + NEGATION_SCOPE and lower[j] not in CLAUSE_END:
                if lower[j][0] not in "!?":
                    negated[j] = True
                j += 1
        else:
            j = i - 1
            while j >= 0 and j >= i - NEGATION_SCOPE + 1 and lower[j] not in CLAUSE_END:
                negated[j] = not _is_negator(lower[j])
                j -= 1
    tokens = []
    for word, low, neg in zip(raw, lower, negated, strict=True):
        if low in CLAUSE_END:
            continue
        tokens.append(Token(text=word, norm=("¬" + low) if neg else low))
    return tokens


def token_features(*, tokens: list[Token], char_ngrams: bool = True) -> list[tuple[str, int]]:
    """(feature, index of the token it is credited to): unigrams, bigrams (credited to the second word,
    where the meaning usually lands: "not good", "sehr schlecht"), and character n-grams of long words, so
    that an unseen compound ("Kundenservicekatastrophe") still shares weight with its parts."""
    features: list[tuple[str, int]] = []
    for i, token in enumerate(tokens):
        features.append((token.norm, i))
        if i:
            features.append((tokens[i - 1].norm.lstrip("¬") + " " + token.norm, i))
        if char_ngrams:
            features.extend((gram, i) for gram in token_char_ngrams(norm=token.norm))
    return features


def token_char_ngrams(*, norm: str) -> list[str]:
    """The character n-grams of a long word (``Token.norm``; none for a short one), marked "¬#" in a
    negation's scope and "#" outside it."""
    word = norm.lstrip("¬")
    if len(word) < COMPOUND_MIN or not word.isalpha():
        return []
    marker = "¬#" if norm.startswith("¬") else "#"
    padded = f"<{word}>"
    return [marker + padded[k : k + CHAR_N] for k in range(len(padded) - CHAR_N + 1)]
