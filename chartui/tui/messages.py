"""Messages that workers post to the UI (post_message is safe from threads and never blocks).

Each carries the ticket of the request it answers (`chartui.latest`): the receiver drops it when
a newer request has replaced that one. A worker that fails posts its kind's `...Failed`
message, with the failure in one sentence (`chartui.tui.workers.failure_posted`).
Only small, finished things cross: summaries, events, a model to sample, never a live trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from chartui.checkpoint import CheckpointSummary
    from chartui.corpus import Corpus, CorpusPeek
    from chartui.generation import Chunk
    from chartui.model import CharRNN
    from chartui.neurons import Activations
    from chartui.progress import Progress, RunControl, RunSummary
    from chartui.vocab import Vocabulary


@dataclass
class CorpusPeeked(Message):
    """The start of a corpus file, read while the whole file loads."""

    peek: CorpusPeek
    ticket: int


@dataclass
class CorpusLoaded(Message):
    """A corpus is ready: one a load was asked for (`ticket`), or the one a training run
    trains on (`ticket` None: it always applies, and loads asked for before are stale)."""

    corpus: Corpus
    ticket: int | None = None


@dataclass
class CorpusFailed(Message):
    error: str
    ticket: int


@dataclass
class CheckpointOpened(Message):
    """A checkpoint read for generation (or to resume, `resume`): its model and vocabulary,
    and what it says about itself."""

    summary: CheckpointSummary
    model: CharRNN
    vocab: Vocabulary
    resume: bool
    ticket: int


@dataclass
class CheckpointFailed(Message):
    error: str
    ticket: int


@dataclass
class TrainerReady(Message):
    """The run is set up: what it is (model size, device, its past when resumed), and the
    controls the UI may use while it trains."""

    summary: RunSummary
    run_control: RunControl
    ticket: int


@dataclass
class TrainingProgress(Message):
    """A `chartui.progress.Progress` event of the run."""

    progress: Progress
    ticket: int


@dataclass
class TrainingFailed(Message):
    error: str
    ticket: int


@dataclass
class GeneratedText(Message):
    """A report of a generation's stream (`chartui.generation.Chunk`, which has its ticket)."""

    chunk: Chunk


@dataclass
class GenerationFailed(Message):
    error: str
    ticket: int


@dataclass
class ActivationsRead(Message):
    """The neuron view's text, read through the model."""

    activations: Activations
    ticket: int


@dataclass
class ActivationsFailed(Message):
    error: str
    ticket: int
