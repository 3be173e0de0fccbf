import hashlib
import json
import re
from pathlib import Path

import pytest

from resonanz.language import text_analyse
from resonanz.language.features import text_tokens, token_features
from resonanz.language.sentiment import (
    MODEL_PATH,
    _fast,
    _shown,
    _softmax,
    sentiment_classify,
    sentiment_classify_many,
    sentiment_model,
)

DATA = MODEL_PATH.parent
ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("tier", ["fast", "combined"])
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Furchtbarer Service, ich bin stinksauer und will mein Geld zurück!", "negative"),
        ("Das Gerät ist nach zwei Tagen kaputt gegangen. Absoluter Schrott.", "negative"),
        ("Terrible service, I am furious and want my money back!", "negative"),
        ("The device broke after two days. Absolute junk.", "negative"),
        ("Vielen Dank, ihr seid großartig! Ich liebe das Produkt.", "positive"),
        ("Thank you so much, you are wonderful! I love this product.", "positive"),
        ("Wann öffnet ihr am Montag?", "neutral"),
        ("What time do you open on Monday?", "neutral"),
    ],
)
def test_clear_cases(text, label, tier):
    assert sentiment_classify(text=text, tier=tier).label == label


@pytest.mark.parametrize(
    ("plain", "negated"),
    [
        ("Das Essen war gut.", "Das Essen war nicht gut."),
        ("The food was good.", "The food was not good."),
        ("Ich bin zufrieden mit dem Service.", "Ich bin nicht zufrieden mit dem Service."),
    ],
)
def test_negation_turns_praise_down(plain, negated):
    before = sentiment_classify(text=plain, tier="fast").probabilities
    after = sentiment_classify(text=negated, tier="fast").probabilities
    assert after["positive"] < before["positive"]
    assert after["negative"] > before["negative"]
    assert sentiment_classify(text=negated, tier="combined").label == "negative"


def test_kein_problem_is_not_a_complaint():
    assert sentiment_classify(text="Kein Problem, danke für die schnelle Hilfe!").label == "positive"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Der Kundenservice war eine einzige Katastrophe.", "Katastrophe"),
        ("The delivery was late and the box was damaged.", "damaged"),
        ("Die Lieferung kam schnell, ich bin begeistert.", "begeistert"),
    ],
)
def test_reasons_name_the_decisive_word(text, word):
    result = text_analyse(text=text)
    assert result.reasons, result
    assert word in [w for w, _ in result.reasons[:3]]
    assert all(weight > 0 for _, weight in result.reasons)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("Ich finde das nicht gut.", "nicht gut"), ("Das gefällt mir nicht.", "gefällt nicht"),
     ("I don't like it.", "don't like")],
)
def test_a_negated_word_is_explained_with_its_negator(text, reason):
    result = sentiment_classify(text=text)
    assert result.label == "negative"
    assert result.reasons[0][0] == reason


def test_function_words_are_no_reasons():
    result = sentiment_classify(text="The staff were rude and the room was dirty.")
    reasons = [w.lower() for w, _ in result.reasons]
    assert "rude" in reasons
    assert not {"the", "were", "and", "was"} & set(reasons)


def test_text_analyse_fills_every_field():
    result = text_analyse(text="Ich bin sehr enttäuscht von eurer Lieferung.")
    assert result.language == "de"
    assert result.sentiment == "negative"
    assert result.score < 0
    assert abs(sum(result.probabilities.values()) - 1) < 1e-3
    assert result.tier == "combined"


def test_batch_and_single_agree():
    texts = ["Toll gemacht!", "Nie wieder.", "Habt ihr morgen offen?"]
    assert [r.label for r in sentiment_classify_many(texts=texts)] == [
        sentiment_classify(text=t).label for t in texts
    ]


def test_the_fast_tier_sums_the_features_of_token_features():
    """``_fast`` reads unigrams and character n-grams through its per-token cache: the same floats as
    summing the weights of ``token_features`` (what the training script counts), in its order, twice
    (the second time from the cache)."""
    model = sentiment_model()
    texts = [
        json.loads(line)["text"]
        for name in ("eval_de.jsonl", "eval_en.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    ]
    texts += ["Das ist nicht Kundenservicekatastrophe.", "Kein Problem!", "I don't like it at all :("]
    for text in texts:
        tokens = text_tokens(text=text)
        scores = list(model.fast_bias)
        per_token = [[0.0] * len(scores) for _ in tokens]
        for feature, index in token_features(tokens=tokens):
            for k, weight in enumerate(model.fast_weights.get(feature, ())):
                scores[k] += weight
                per_token[index][k] += weight
        expected = (_softmax(scores), list(zip(_shown(tokens=tokens), per_token, strict=True)))
        assert _fast(model=model, text=text) == expected
        assert _fast(model=model, text=text) == expected
    assert model.token_cache


def test_empty_text_is_neutral_enough_not_to_fail():
    assert text_analyse(text="").sentiment in {"negative", "neutral", "positive"}


def test_model_file_matches_the_training_script_and_data():
    model = sentiment_model()
    script = (ROOT / "scripts" / "train_sentiment.py").read_text(encoding="utf-8")
    version = re.search(r"^TRAINER_VERSION = (\d+)$", script, re.MULTILINE)
    assert version is not None
    declared = int(version.group(1))
    assert model.trainer_version == declared
    for name, digest in model.data_sha256.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    vader = re.search(r'^VADER_SHA256 = "([0-9a-f]{64})"$', script, re.MULTILINE)
    assert vader is not None
    assert json.loads(MODEL_PATH.read_text(encoding="utf-8"))["vader_sdist_sha256"] == vader.group(1)
