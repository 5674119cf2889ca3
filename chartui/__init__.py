"""chartui: a terminal playground for character-level language models."""

__version__ = "0.1.0"
