import pytest

from resonanz.language.detection import language_detect


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
