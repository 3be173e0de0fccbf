"""Language and sentiment of messages, offline: ``text_analyse(text=...)`` (docs/language.md)."""

from .analysis import TextAnalysis, text_analyse, texts_analyse

__all__ = ["TextAnalysis", "text_analyse", "texts_analyse"]
