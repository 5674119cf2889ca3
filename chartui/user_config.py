"""The user's config file: the app's theme, the keymap, and default training settings.

`config.toml` in the platform's config folder (`platformdirs.user_config_dir("chartui")`:
`$XDG_CONFIG_HOME/chartui` or `~/.config/chartui` on Linux, `~/Library/Application
Support/chartui` on macOS, `%LOCALAPPDATA%\\chartui` on Windows), or wherever `$CHARTUI_CONFIG`
points::

    theme = "nord"             # the app's colours (chosen with ctrl+p, Theme)

    [keys]                     # binding id = "key", as in keymap.toml
    toggle_training = "space"

    [train]                    # TrainConfig field = value: the defaults of the settings form
    preset = "default"         # and of `chartui train` (a flag still wins)
    hidden_size = 256
    lr = 0.005

Reading never raises: what is wrong is said in `UserConfig.problems` (one sentence each) and
the usable entries still apply. Writing the theme (`save_theme`) changes only its own line,
atomically, and leaves a file it cannot read as it is. Imports no UI.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

from chartui.config import PRESETS, SettingError, TrainConfig, preset
from chartui.errors import ChartuiError
from chartui.files import user_path, write_atomically

CONFIG_ENV = "CHARTUI_CONFIG"
SECTIONS = ("theme", "keys", "train")  # what the file may hold


def config_path() -> Path:
    """Where the user's config file is (it need not exist); raises ChartuiError for a
    `$CHARTUI_CONFIG` naming an unknown user's home."""
    if os.environ.get(CONFIG_ENV):
        return user_path(os.environ[CONFIG_ENV])
    import platformdirs  # comes with Textual
    return Path(platformdirs.user_config_dir("chartui", appauthor=False)) / "config.toml"


@dataclass
class UserConfig:
    """What the user's config file says, its usable entries only, and what was wrong."""

    path: Path | None = None
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)  # checked TrainConfig fields
    problems: list[str] = field(default_factory=list)  # one sentence each, without the path
    train_problems: list[str] = field(default_factory=list)  # those of [train] (or the file)
    readable: bool = True  # False: it exists but is not TOML (never overwritten then)

    def train_config(self) -> TrainConfig:
        """The user's default settings: their preset (default: "default") with their values."""
        values = dict(self.train)
        return preset(values.pop("preset", "default")).override(**values)

    def problem(self) -> str | None:
        """All that is wrong in one notice naming the file; None when nothing is."""
        if not self.problems:
            return None
        return f"{self.path}: {'; '.join(self.problems)}" if self.path else \
            "; ".join(self.problems)


def load_user_config(path: Path | None = None) -> UserConfig:
    """The user's config file, read and checked (see the module's docstring); never raises."""
    try:
        path = path or config_path()
    except ChartuiError as exc:
        return UserConfig(problems=[f"{exc} (in ${CONFIG_ENV})"], readable=False)
    found = UserConfig(path=path)
    try:
        if not path.is_file():  # (a folder on the way that cannot be looked into: OSError)
            return found
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        found.readable = False
        found.problems.append(f"could not be read ({exc}), so none of it applies")
        found.train_problems.append(found.problems[-1])
        return found
    for name in data:
        if name not in SECTIONS:
            found.problems.append(f"unknown entry {name!r} (the file holds theme, [keys] and "
                                  "[train]) was ignored")
    theme = data.get("theme")
    if theme is not None:
        if isinstance(theme, str):
            found.theme = theme
        else:
            found.problems.append("theme must be a name in quotes, e.g. theme = \"nord\"; it "
                                  "was ignored")
    keys = data.get("keys", {})
    if isinstance(keys, dict):
        found.keys = {k: v for k, v in keys.items() if isinstance(v, str)}
        if len(found.keys) != len(keys):
            found.problems.append("every [keys] entry must be binding_id = \"key\"; others "
                                  "were ignored")
    else:
        found.problems.append("keys must be a table ([keys]); it was ignored")
    _read_train(data.get("train", {}), found)
    return found


def _read_train(table: Any, found: UserConfig) -> None:
    """[train]'s entries that are settings with allowed values into `found.train`; a sentence
    for each one that is not."""
    def refuse(sentence: str) -> None:
        found.problems.append(f"{sentence}; it was ignored")
        found.train_problems.append(sentence)

    if not isinstance(table, dict):
        refuse("train must be a table ([train])")
        return
    settings = TrainConfig.settings()
    for name, value in table.items():
        if name == "preset":
            if isinstance(value, str) and value in PRESETS:
                found.train[name] = value
            else:
                refuse(f"[train] preset {value!r} is not one of: {', '.join(PRESETS)}")
        elif name not in settings:
            refuse(f"[train] has no setting {name!r} (the names are TrainConfig's, e.g. "
                   "hidden_size, lr)")
        elif not settings[name].allows(value):
            refuse(f"[train] {name} = {value!r} is not allowed: {settings[name].rule()}")
        else:
            found.train[name] = value
    try:
        found.train_config().validate()
    except SettingError as exc:
        found.train.clear()
        refuse(f"[train] {exc} (so none of [train] applies)")


def train_defaults(path: Path | None = None) -> TrainConfig:
    """The settings `chartui train` starts from when no --preset is given: the config file's
    [train] over the default preset. Raises ChartuiError, naming the file, when [train] (or
    the whole file) cannot be used: a run should not start on settings the user did not ask
    for."""
    user = load_user_config(path)
    if user.train_problems:
        raise ChartuiError(f"{user.path}: {user.train_problems[0]}; fix the file, or give "
                           "--preset to start from a preset alone")
    return user.train_config()


def save_theme(theme: str, path: Path | None = None) -> Path:
    """Write `theme = "..."` into the config file, creating it if need be and keeping every
    other line as it was (read, change one line, write atomically). Raises ChartuiError, with
    the file named, when the file cannot be read as TOML (it is then left alone) or written."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ChartuiError(f"{path} could not be read ({exc}), so it was not changed") from None
    new_text = with_top_level_line(text, "theme", json.dumps(theme))
    try:
        same = tomllib.loads(new_text) == {**data, "theme": theme}
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise ChartuiError(f"{path}: its theme line could not be changed safely; write "
                           f"theme = {json.dumps(theme)} in it by hand")
    try:
        path = path.resolve()  # a linked config.toml (a dotfiles folder) stays linked
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.exists() else None  # a private file stays so
        write_atomically(path, lambda file: file.write(new_text.encode("utf-8")), mode=mode)
    except OSError as exc:
        raise ChartuiError(f"{path} could not be written ({exc.strerror or exc})") from None
    return path


def with_top_level_line(text: str, key: str, value: str) -> str:
    """`text` with the top-level `key = ...` line replaced by `key = value`, or the line added
    before the first table (or at the end)."""
    lines = text.splitlines(keepends=True)
    line = f"{key} = {value}\n"
    first_table = next((i for i, old in enumerate(lines) if re.match(r"\s*\[", old)),
                       len(lines))
    for i in range(first_table):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            comment = re.search(r"\s+#[^\"']*$", lines[i].rstrip("\n"))  # kept, if plainly one
            lines[i] = line if comment is None else line[:-1] + comment.group(0) + "\n"
            return "".join(lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if first_table < len(lines):
        line += "\n"
    lines.insert(first_table, line)
    return "".join(lines)
