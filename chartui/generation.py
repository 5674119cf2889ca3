"""A generation session: the sampling knobs, the text being generated, and its stream.

What the app's generation console does, without the console: the temperature, top-k and top-p
keys turn `settings`; `begin` starts a generation from a prime (a short prime is read at once, so
its first character can be shown with the Enter that asked for it); `run` is the loop a worker
thread streams the rest with, at a steady pace, reporting new characters about 30 times a
second; `step` adds one character to the `current` generation; `candidates` says what the
model expects next.

Every stream has a ticket (`chartui.latest`): a stream that a newer one replaced may still
report once or twice from its thread, and `take` drops those reports. Imports no UI, and
torch only once a model exists (in `begin`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chartui.config import TEMPERATURE_KEY_MAX, TEMPERATURE_KEY_STEP, SamplingSettings
from chartui.latest import Latest

if TYPE_CHECKING:
    from chartui.model import CharRNN
    from chartui.sampling import Generation
    from chartui.vocab import Vocabulary

TOP_K_STEPS = (1, 2, 3, 5, 10, 20, 40)  # the top-k keys' steps, then "all"
TOP_P_STEPS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)  # the top-p keys' steps, then off (1)
CANDIDATES = 8  # the likeliest next characters reported with the text
QUICK_START_PRIME = 32  # primes up to this long are read by `begin` (about 3 ms)
REPORTS_PER_S = 30  # how often a stream reports its new characters


@dataclass(frozen=True)
class Stream:
    """What a worker thread streams: the generation `start()` builds (it may read a long prime
    first), then `length` characters of it."""

    ticket: int
    start: Callable[[], Generation]
    length: int


@dataclass(frozen=True)
class Chunk:
    """One report of a stream: characters drawn since the last one and what the model expects
    after them. The first report also hands over the `generation` (it becomes the session's
    `current`); the last one is `finished`."""

    ticket: int
    text: str
    candidates: list[tuple[str, float, float]]
    generation: Generation | None = None
    finished: bool = False


class GenerationSession:
    """The generation on show and the knobs it is drawn with (see the module's docstring).

    `settings` is read before every character, so turning a knob changes the next characters of
    a running stream. `pace` is in characters per second (0: as fast as they come).
    """

    def __init__(self, pace: float = 500.0) -> None:
        self.settings = SamplingSettings(temperature=0.8, top_k=None, top_p=None)
        self.pace = pace
        self.current: Generation | None = None  # the generation on show
        self.streaming = False  # a stream's thread may still be stepping `current`
        self._streams = Latest()

    # --- the knobs ------------------------------------------------------------------------------

    def change_temperature(self, direction: int) -> None:
        """One step of the temperature keys up (+1) or down (-1), from greedy (0) to the keys'
        maximum."""
        value = round(self.settings.temperature + direction * TEMPERATURE_KEY_STEP, 1)
        self.settings.temperature = min(TEMPERATURE_KEY_MAX, max(0.0, value))

    def change_top_k(self, direction: int, vocab_size: int | None) -> None:
        """One step along TOP_K_STEPS (those below the vocabulary's size), then "all" (None)."""
        steps = [k for k in TOP_K_STEPS if vocab_size is None or k < vocab_size] + [None]
        current = self.settings.top_k
        index = steps.index(current) if current in steps else len(steps) - 1
        self.settings.top_k = steps[min(len(steps) - 1, max(0, index + direction))]

    def change_top_p(self, direction: int) -> None:
        """One step along TOP_P_STEPS up (+1: more characters) or down (-1: fewer), then off
        (None, the same as p = 1: every character the other knobs leave)."""
        steps = [*TOP_P_STEPS, None]
        current = self.settings.top_p
        index = steps.index(current) if current in steps else len(steps) - 1
        self.settings.top_p = steps[min(len(steps) - 1, max(0, index + direction))]

    def candidates(self) -> list[tuple[str, float, float]]:
        """What the model expects after the text so far, under the knobs as they are now."""
        return self.current.candidates(CANDIDATES) if self.current is not None else []

    # --- generating -----------------------------------------------------------------------------

    def begin(self, model: CharRNN, vocab: Vocabulary, prime: str, length: int,
              seed: int | None = None, stepping: bool = False) -> tuple[str, Stream | None]:
        """Start a generation of `length` characters after `prime` (just one when `stepping`);
        reports of the streams before it are stale from now on.

        Returns the characters to show with the prime at once, and the stream for a worker
        thread to `run` (None when nothing is left to stream). A short prime is read here and
        the first character drawn: a few NumPy steps. Raises what `Generation` raises, e.g. a
        ChartuiError for weights that are not finite.
        """
        from chartui.sampling import Generation  # torch is loaded: there is a model
        ticket = self._streams.new()
        self.current, self.streaming = None, False
        start = functools.partial(Generation, model, vocab, prime, self.settings, seed)
        first = ""
        if len(prime) <= QUICK_START_PRIME:
            generation = start()
            first = generation.emit()
            self.current = generation
            start, length = (lambda: generation), (0 if stepping else length - 1)
        elif stepping:
            length = 1
        self.streaming = length > 0
        return first, (Stream(ticket, start, length) if self.streaming else None)

    def run(self, stream: Stream, report: Callable[[Chunk], None],
            cancelled: Callable[[], bool]) -> None:
        """The stream's loop, for a worker thread: draw its characters at `pace`, `report` them
        about REPORTS_PER_S times a second (the first at once), and report a last, `finished`
        chunk when done or when `cancelled()` says to stop."""
        began = last_report = time.perf_counter()
        buffer: list[str] = []
        generation = stream.start()
        for i in range(stream.length):
            if cancelled():
                break
            buffer.append(generation.emit())
            now = time.perf_counter()
            if i == 0 or now - last_report >= 1 / REPORTS_PER_S:
                report(Chunk(stream.ticket, "".join(buffer), generation.candidates(CANDIDATES),
                             generation=generation if i == 0 else None))
                buffer, last_report = [], now
            if self.pace:
                delay = began + (i + 1) / self.pace - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
        report(Chunk(stream.ticket, "".join(buffer), generation.candidates(CANDIDATES),
                     finished=True))

    def take(self, chunk: Chunk) -> bool:
        """Take in a stream's report (on the UI thread); False when its stream was replaced
        and the report is to be dropped."""
        if not self._streams.is_current(chunk.ticket):
            return False
        if chunk.generation is not None:
            self.current = chunk.generation
        if chunk.finished:
            self.streaming = False
        return True

    def failed(self, ticket: int) -> bool:
        """The stream of `ticket` ended with an error; False when it had been replaced."""
        if not self._streams.is_current(ticket):
            return False
        self.streaming = False
        return True

    def step(self) -> str:
        """One more character of the current generation (none may be streaming)."""
        return self.current.emit()

    def choose(self, rank: int) -> str | None:
        """The `rank`-th likeliest next character, chosen by hand instead of drawn (none may be
        streaming); None when there is no such candidate."""
        return self.current.choose(rank)
