"""User key remapping: ~/.config/chartui/keymap.toml maps binding ids to keys (over the
config file's [keys] table, `chartui.user_config`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

from chartui.errors import ChartuiError
from chartui.files import user_path


def keymap_path() -> Path:
    if os.environ.get("CHARTUI_KEYMAP"):
        return user_path(os.environ["CHARTUI_KEYMAP"])
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "chartui" / "keymap.toml"


def load_keymap(path: Path | None = None, known_ids: set[str] | None = None,
                keys: dict[str, str] | None = None, base: dict[str, str] | None = None,
                base_path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """The user's keymap and, if the file is unusable or has entries that are not, one sentence
    naming the file and saying why (the usable entries still apply).

    `base` holds entries read before the keymap file (the config file's [keys], from
    `base_path`): the keymap file's own entries go over them. `keys` maps the ids of the
    bindings that act together (the main screen's and the app's) to their own keys: an entry
    that would give one key to two of them is ignored too, so no key is lost (the main
    screen's binding would hide the app's)."""
    keymap = dict(base or {})
    where = {binding_id: base_path for binding_id in keymap}
    try:
        path = path or keymap_path()
    except ChartuiError as exc:
        return keymap, f"{exc} (in $CHARTUI_KEYMAP); keys stay as they are"
    problems: list[str] = []
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return keymap, f"{path} could not be read ({exc}); keys stay as they are"
        entries = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        if len(entries) != len(data):
            problems.append(f"{path}: every entry must be binding_id = \"key\"; others were "
                            "ignored")
        keymap.update(entries)
        where.update({binding_id: path for binding_id in entries})
    unnamed = sorted(binding_id for binding_id, key in keymap.items()
                     if not all(part.strip() for part in key.split(",")))
    if unnamed:
        files = " and ".join(sorted({str(where[binding_id]) for binding_id in unnamed
                                     if binding_id in where}))
        for binding_id in unnamed:
            del keymap[binding_id]
        problems.append(f"{files}: {', '.join(unnamed)} names no key (keys are names such as "
                        "comma, space or ctrl+t, several separated by commas); those entries "
                        "were ignored")
    unknown = sorted(set(keymap) - known_ids) if known_ids is not None else []
    if unknown:
        for binding_id in unknown:
            del keymap[binding_id]
        files = " and ".join(sorted({str(where[binding_id]) for binding_id in unknown}))
        problems.append(f"{files}: no key has the id {', '.join(unknown)} (the help screen, ?, "
                        "lists them); those entries were ignored")
    shared = shared_keys(keymap, keys or {})
    if shared:
        key, ids = shared
        files = " and ".join(sorted({str(where[binding_id]) for binding_id in ids
                                     if binding_id in where}))
        for binding_id in ids:
            keymap.pop(binding_id, None)
        problems.append(f"{files}: {' and '.join(ids)} would share the key {key}; those "
                        "entries were ignored")
    return keymap, "; ".join(problems) or None


def shared_keys(keymap: dict[str, str], keys: dict[str, str]) -> tuple[str, list[str]] | None:
    """The first key that `keymap` would give to two of the bindings in `keys` (id: own key),
    with their ids; None when every key stays with one binding."""
    holders: dict[str, list[str]] = {}
    for binding_id, own in keys.items():
        for key in keymap.get(binding_id, own).split(","):
            holders.setdefault(key.strip(), []).append(binding_id)
    for key, ids in holders.items():
        if len(ids) > 1:
            return key, ids
    return None
