"""The training sentences stay apart from the evaluation sets (data/README.md)."""

import json
import re

import pytest

from resonanz.language.sentiment import MODEL_PATH

DATA = MODEL_PATH.parent
LABELS = {"negative", "neutral", "positive"}


def rows(name):
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def words(text):
    return set(re.findall(r"\w+", text.lower()))


@pytest.mark.parametrize("language", ["de", "en"])
def test_no_training_sentence_is_close_to_an_evaluation_sentence(language):
    evaluation = [words(r["text"]) for r in rows(f"eval_{language}.jsonl")]
    close = []
    for row in rows(f"train_{language}.jsonl"):
        mine = words(row["text"])
        overlap = max(len(mine & other) / len(mine | other) for other in evaluation)
        if overlap >= 0.45:
            close.append(row["text"])
    assert close == []


def test_training_files_are_translations_of_each_other_with_the_same_labels():
    german, english = rows("train_de.jsonl"), rows("train_en.jsonl")
    assert len(german) == len(english) > 250
    assert [r["label"] for r in german] == [r["label"] for r in english]
    assert {r["label"] for r in german} == LABELS
