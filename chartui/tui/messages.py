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
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TrainerReady(Message):
    """The worker built its Trainer: model size and device are known."""

    def __init__(self, trainer: Any, run: int) -> None:
        super().__init__()
        self.trainer = trainer
        self.run = run


class CorpusPeeked(Message):
    """The start of a corpus file, read while the whole file loads."""

    def __init__(self, peek: Any) -> None:
        super().__init__()
        self.peek = peek


class CorpusLoaded(Message):
    def __init__(self, corpus: Any) -> None:
        super().__init__()
        self.corpus = corpus


class CorpusFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class CheckpointOpened(Message):
    def __init__(self, path: str, model: Any, vocab: Any, payload: dict, resume: bool) -> None:
        super().__init__()
        self.path, self.model, self.vocab = path, model, vocab
        self.payload, self.resume = payload, resume


class GeneratedText(Message):
    """New characters from the generation worker, tagged with the number of its generation
    (a replaced stream's thread may still post a last message)."""

    def __init__(self, text: str, number: int, finished: bool = False, error: str | None = None,
                 candidates: list | None = None, generation: Any = None) -> None:
        super().__init__()
        self.text, self.number, self.finished, self.error = text, number, finished, error
        self.candidates = candidates  # what the model expects next, after this text
        self.generation = generation  # the chartui.sampling.Generation, in the first message
