"""User key remapping: ~/.config/chartui/keymap.toml maps binding ids to keys."""

from __future__ import annotations

import os
from pathlib import Path

from chartui.errors import ChartuiError
from chartui.files import user_path


def keymap_path() -> Path:
    if os.environ.get("CHARTUI_KEYMAP"):
        return user_path(os.environ["CHARTUI_KEYMAP"])
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "chartui" / "keymap.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """The user's keymap and, if the file is unusable, one sentence saying why."""
    try:
        path = path or keymap_path()
    except ChartuiError as exc:
        return {}, f"{exc} (in $CHARTUI_KEYMAP); keys stay as they are"
    if not path.is_file():
        return {}, None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return {}, f"{path} needs Python 3.11 or newer to be read; keys stay as they are"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path} could not be read ({exc}); keys stay as they are"
    keymap = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
    if len(keymap) != len(data):
        return keymap, f"{path}: every entry must be binding_id = \"key\"; others were ignored"
    return keymap, None
