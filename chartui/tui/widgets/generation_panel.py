"""The generation panel: the console and the next-character inspector, showing a session.

The screen's `chartui.generation.GenerationSession` does the work (the knobs, the quick start,
the stream's loop, stale reports); this widget reads the prime, length and seed boxes, runs
the stream in a worker thread and shows what the session reports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input
from textual.worker import Worker, get_current_worker

from chartui.errors import ChartuiError, describe_failure
from chartui.generation import GenerationSession, Stream
from chartui.tui.messages import GeneratedText, GenerationFailed
from chartui.tui.widgets.generation import GenerationConsole
from chartui.tui.widgets.inspector import NextCharInspector
from chartui.tui.workers import failure_posted, while_running

ModelSource = Callable[[], tuple | None]  # (model, vocabulary) to sample, or None (said why)
INSPECTOR_MIN_WIDTH = 100  # narrower terminals start with the inspector hidden (i shows it)


class GenerationPanel(Horizontal):
    """Type a prime, press Enter, watch characters arrive, and what the model expects next."""

    def __init__(self, session: GenerationSession, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.worker: Worker | None = None  # the running stream's

    def compose(self) -> ComposeResult:
        yield GenerationConsole(id="generate")
        yield NextCharInspector(id="inspector", classes="" if self.app.size.width
                                >= INSPECTOR_MIN_WIDTH else "-hidden")

    def on_mount(self) -> None:
        self.refresh_knobs()

    @property
    def console(self) -> GenerationConsole:
        return self.query_one(GenerationConsole)

    def output_text(self) -> str:
        return self.console.output_text()

    # --- the knobs ------------------------------------------------------------------------------

    def refresh_knobs(self) -> None:
        settings = self.session.settings
        self.console.show_knobs(settings.temperature, settings.top_k, settings.top_p,
                                self.session.streaming)
        self.show_candidates()

    def show_candidates(self, candidates: list | None = None) -> None:
        if candidates is None:
            candidates = self.session.candidates()
        self.query_one(NextCharInspector).show_candidates(candidates, self.session.settings)

    def change_temperature(self, direction: int) -> None:
        self.session.change_temperature(direction)
        self.refresh_knobs()

    def change_top_k(self, direction: int, vocab_size: int | None) -> None:
        self.session.change_top_k(direction, vocab_size)
        self.refresh_knobs()

    def change_top_p(self, direction: int) -> None:
        self.session.change_top_p(direction)
        self.refresh_knobs()

    def toggle_inspector(self) -> None:
        self.query_one(NextCharInspector).toggle_class("-hidden")

    # --- generating -----------------------------------------------------------------------------

    def stop(self) -> bool:
        """Ask the running stream to stop (its last characters still come); False when no
        stream is running."""
        if not self.session.streaming or self.worker is None:
            return False
        self.worker.cancel()
        return True

    def generate(self, prime: str, model_source: ModelSource, stepping: bool = False) -> None:
        """A new generation from `prime`, with the length and seed in their boxes (just one
        character when `stepping`), replacing a running one."""
        length_input = self.query_one("#length", Input)
        seed_input = self.query_one("#seed", Input)
        for box, what in ((length_input, "length (1 to 100,000)"),
                          (seed_input, "seed (a whole number, or empty)")):
            result = box.validate(box.value)
            if result is not None and not result.is_valid:
                self.notify(f"the {what} is not valid: fix it and press enter again",
                            severity="warning")
                box.focus()
                return
        length = int(length_input.value)
        seed = int(seed_input.value) if seed_input.value.strip() else None
        current = model_source()
        if current is None:
            return
        model, vocab = current
        self.stop()
        unknown = vocab.unknown_chars(prime)
        if unknown:
            shown = " ".join(repr(c) for c in unknown[:8])
            self.notify(f"the model never saw {shown}; those characters of the prime are "
                        "skipped", severity="warning")
        self.console.begin(prime)
        self.screen.set_focus(None)  # so [ ] { } , . and escape act on the running stream
        try:
            first, stream = self.session.begin(model, vocab, prime, length, seed, stepping)
        except Exception as exc:  # noqa: BLE001 - one sentence, the app keeps running
            self.notify(describe_failure(exc), title="Generation", severity="error")
            self.refresh_knobs()
            return
        if first:
            self.console.append(first)  # in the very next frame
        if stream is not None:
            self.worker = self._stream(stream)
        self.refresh_knobs()

    def step(self, model_source: ModelSource) -> None:
        """One more character of the current generation; a running stream stops first, and
        with no generation yet one starts from the prime box."""
        if self.stop():
            return
        if self.session.current is None:
            self.generate(self.query_one("#prime", Input).value, model_source, stepping=True)
            return
        try:
            char = self.session.step()
        except ChartuiError as exc:
            self.notify(str(exc), title="Generation", severity="error")
            return
        self.console.append(char)
        self.show_candidates()

    def choose(self, rank: int) -> None:
        """Steer: the inspector's candidate `rank` (1-8) becomes the next character, so a
        learner walks the text down a path of their choosing and watches the distribution
        answer. Needs the inspector in view and a generation under way (n starts one); a
        running stream stops first."""
        if self.query_one(NextCharInspector).has_class("-hidden"):
            self.notify("show the next-character inspector (i) to choose the next character "
                        "with 1-8", severity="warning")
            return
        if self.stop():
            return
        if self.session.current is None:
            self.notify("no generation yet: type a prime and press n (one character) or enter, "
                        "then choose with 1-8", severity="warning")
            return
        char = self.session.choose(rank)
        if char is None:
            self.notify(f"candidate {rank} cannot be drawn: top-k, top-p or greedy (T 0) cut "
                        "it", severity="warning")
            return
        self.console.append(char)
        self.show_candidates()

    @work(thread=True, exclusive=True, group="generate")
    def _stream(self, stream: Stream) -> None:
        worker = get_current_worker()
        with failure_posted(self, functools.partial(GenerationFailed, ticket=stream.ticket)):
            self.session.run(stream, lambda chunk: self.post_message(GeneratedText(chunk)),
                             lambda: worker.is_cancelled)

    @while_running
    def on_generated_text(self, message: GeneratedText) -> None:
        chunk = message.chunk
        if not self.session.take(chunk):
            return  # the last words of a stream that was replaced
        if chunk.text:
            self.console.append(chunk.text)
        self.show_candidates(chunk.candidates)
        if chunk.finished:
            self.worker = None
            self.refresh_knobs()

    @while_running
    def on_generation_failed(self, message: GenerationFailed) -> None:
        if self.session.failed(message.ticket):
            self.notify(message.error, title="Generation", severity="error")
            self.worker = None
            self.refresh_knobs()
