"""Messages that workers post to the app (post_message is safe from threads and never blocks)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class TrainingProgress(Message):
    """A `chartui.trainer.Progress` event from the training worker."""

    def __init__(self, progress: Any, run: int) -> None:
        super().__init__()
        self.progress = progress
        self.run = run


class TrainingFailed(Message):
    def __init__(self, error: str, run: int) -> None:
        super().__init__()
        self.error = error
        self.run = run


class CheckpointFailed(Message):
    def __init__(self, error: str, request: int) -> None:
        super().__init__()
        self.error = error
        self.request = request


class TrainerReady(Message):
    """The worker built its Trainer: model size and device are known."""

    def __init__(self, trainer: Any, run: int) -> None:
        super().__init__()
        self.trainer = trainer
        self.run = run


class CorpusPeeked(Message):
    """The start of a corpus file, read while the whole file loads."""

    def __init__(self, peek: Any, request: int) -> None:
        super().__init__()
        self.peek = peek
        self.request = request


class CorpusLoaded(Message):
    """A corpus is ready: from a load the app asked for (`request`, its number; a newer request
    makes it stale), or the one a run trains on (`request` None: it always applies)."""

    def __init__(self, corpus: Any, request: int | None = None) -> None:
        super().__init__()
        self.corpus = corpus
        self.request = request


class CorpusFailed(Message):
    def __init__(self, error: str, request: int) -> None:
        super().__init__()
        self.error = error
        self.request = request


class CheckpointOpened(Message):
    """A checkpoint read by the worker of request number `request`."""

    def __init__(self, path: str, model: Any, vocab: Any, payload: dict, resume: bool,
                 request: int) -> None:
        super().__init__()
        self.path, self.model, self.vocab = path, model, vocab
        self.payload, self.resume, self.request = payload, resume, request


class GeneratedText(Message):
    """New characters from the generation worker, tagged with the number of its generation
    (a replaced stream's thread may still post a last message)."""

    def __init__(self, text: str, number: int, finished: bool = False, error: str | None = None,
                 candidates: list | None = None, generation: Any = None) -> None:
        super().__init__()
        self.text, self.number, self.finished, self.error = text, number, finished, error
        self.candidates = candidates  # what the model expects next, after this text
        self.generation = generation  # the chartui.sampling.Generation, in the first message
