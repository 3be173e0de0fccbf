from resonanz.language.features import text_tokens, token_features


def norms(text):
    return [t.norm for t in text_tokens(text=text)]


def test_negation_marks_the_words_after_the_negator():
    assert norms("Das ist nicht gut") == ["das", "ist", "nicht", "¬gut"]
    assert norms("This is not good at all.") == ["this", "is", "not", "¬good", "¬at", "¬all"]
    assert norms("I don't like it") == ["i", "don't", "¬like", "¬it"]


def test_negation_stops_at_the_clause_end():
    assert norms("Kein Problem, danke") == ["kein", "¬problem", "danke"]


def test_german_nicht_at_the_clause_end_negates_the_words_before_it():
    assert norms("Das gefällt mir nicht.") == ["das", "¬gefällt", "¬mir", "nicht"]


def test_emoji_and_emoticons_are_tokens_links_and_handles_are_not():
    assert norms("Super 😍 :) @team https://example.com") == ["super", "😍", ":)"]


def test_long_words_get_character_ngrams_credited_to_the_word():
    tokens = text_tokens(text="Kundenservicekatastrophe")
    grams = [f for f, i in token_features(tokens=tokens) if f.startswith("#")]
    assert "#rophe" in grams
    assert "#kunde" in grams
    assert {i for _, i in token_features(tokens=tokens)} == {0}
