"""The Textual app. It renders and dispatches; the maths lives in the core modules."""

from pathlib import Path


def widget_css(module_file: str) -> str:
    """The styles kept beside a widget's module, in a `.tcss` file of the same name."""
    return Path(module_file).with_suffix(".tcss").read_text(encoding="utf-8")
