"""Package data: the bundled sample library, vocabularies and word lists (loaded via importlib.resources)."""
