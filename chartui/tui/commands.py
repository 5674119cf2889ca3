"""The command palette (ctrl+p): every action of the main screen and the app, by name.

The commands are made from the key bindings themselves (`chartui.tui.keys.MAIN_KEYS` and the
app's), so the palette cannot drift from the keys: each is named after its binding's
description and tooltip, its help says its key (as remapped) and binding id, and running it
runs the binding's action, exactly as the key would. Textual's own "Theme" command sits beside
them (`ChartuiApp.get_system_commands`). The palette opens on the main screen only: the dialogs
have a few keys each, listed on screen, and the main screen's actions do not act beneath them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

PALETTE_ID = "command_palette"  # the binding that opens the palette


def command_name(binding: Binding) -> str:
    """What the palette calls a binding, e.g. "Train: start, pause or resume training"."""
    label, detail = binding.description, binding.tooltip
    if not detail or detail.lower().startswith(label.lower()):
        text = detail or label
    else:
        text = f"{label}: {detail}"
    return text[:1].upper() + text[1:]


class KeyCommands(Provider):
    """The actions of the screen's key bindings (a screen with `key_bindings()`: the main
    screen), each run as its key would run it."""

    def commands(self) -> list[tuple[str, str, Callable]]:
        screen = self.screen
        key_bindings = getattr(screen, "key_bindings", None)
        if key_bindings is None:
            return []
        app = self.app
        own = {binding.id for binding in app.BINDINGS if isinstance(binding, Binding)}
        found = []
        for binding in key_bindings():
            if binding.id == PALETTE_ID:  # the palette is open already
                continue
            target = app if binding.id in own else screen
            key = app.key_display(binding)
            found.append((command_name(binding), f"key {key} · id {binding.id}",
                          partial(target.run_action, binding.action)))
        return found

    async def discover(self) -> Hits:
        for name, help_text, run in self.commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
