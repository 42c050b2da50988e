"""mlops-cards: course lessons in Markdown -> Anki decks that update in place, and a checklist."""

__version__ = "0.1.0"
