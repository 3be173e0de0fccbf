import json

import pytest

from resonanz.language.detection import (
    LETTER,
    LanguageResult,
    _decide,
    language_detect,
    language_identifier,
    languages_detect,
)
from resonanz.language.features import text_normalise


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Wann kommt endlich meine Bestellung? Ich warte seit Montag.", "de"),
        ("Die Größe passt leider überhaupt nicht, kann ich umtauschen?", "de"),
        ("Danke!", "de"),
        ("When will my order finally arrive? I have been waiting since Monday.", "en"),
        ("The size doesn't fit at all, can I exchange it?", "en"),
        ("Bonjour, je voudrais savoir quand ma commande arrive.", "other"),
        ("Hola, ¿cuándo llega mi pedido? Gracias.", "other"),
        ("Grazie mille per tutto, siete fantastici!", "other"),
        ("Dziękuję bardzo za szybką dostawę", "other"),
        ("😍😍😍", "other"),
        ("👍", "other"),
        ("https://example.com/shop/item?id=42", "other"),
        ("", "other"),
        ("   ", "other"),
        ("12345 !!!", "other"),
    ],
)
def test_language(text, language):
    assert language_detect(text=text).language == language


def test_confidence_is_high_for_a_clear_sentence_and_zero_without_letters():
    assert language_detect(text="Vielen Dank für die freundliche Beratung im Laden gestern.").confidence > 0.9
    assert language_detect(text="🎉🎉").confidence == 0.0


def test_a_link_and_a_handle_do_not_decide_the_language():
    result = language_detect(text="@shopteam schaut mal hier https://example.com/the-english-page-is-broken")
    assert result.language == "de"


def _eval_texts() -> list[str]:
    from resonanz.language.sentiment import MODEL_PATH

    texts = []
    for name in ("eval_de.jsonl", "eval_en.jsonl", "train_de.jsonl", "train_en.jsonl"):
        texts += [json.loads(line)["text"] for line in (MODEL_PATH.parent / name).read_text().splitlines()]
    return [*texts, "Merci beaucoup", "GROSSARTIG!!!", "ok", "🎉", "", "日本語のテキスト"]


def test_the_batch_decides_as_py3langid_ranks_each_text():
    """``languages_detect`` computes py3langid's probabilities for a batch at once: the same decision
    and confidence as from its own ``rank`` of each text."""
    texts = _eval_texts()
    expected = []
    for text in texts:
        cleaned = text_normalise(text=text).strip()
        if not LETTER.search(cleaned):
            expected.append(LanguageResult(language="other", confidence=0.0))
            continue
        ranking = language_identifier().rank(cleaned)
        probability = dict(ranking)
        top, top_p = ranking[0]
        expected.append(_decide(top=top, top_p=top_p, p_de=probability["de"], p_en=probability["en"]))
    assert languages_detect(texts=texts) == expected
    assert [language_detect(text=t) for t in texts[:40]] == expected[:40]
    assert {r.language for r in expected} == {"de", "en", "other"}
