"""TagAssist: a local, personal tagging assistant for photo and document libraries."""

__version__ = "0.1.0"
