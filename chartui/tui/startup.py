"""What the app starts with: the command line's options, for the main screen and its parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chartui.config import TrainConfig, preset
from chartui.corpus import DEFAULT_CORPUS

if TYPE_CHECKING:
    from chartui.corpus import Corpus


@dataclass(frozen=True)
class Startup:
    """What the app starts with: the command line's options (see `make_app`)."""

    corpus: str | Corpus = DEFAULT_CORPUS  # a name or path to load, or a corpus at hand
    config: TrainConfig = field(default_factory=lambda: preset("default"))
    checkpoint: str | None = None  # to open at once
    resume: str | None = None  # to open at once, and resume with t
    watch: str | None = None  # a run log to follow at once, read-only (chartui watch)
    watch_notice: str | None = None  # said as the watch starts (e.g. that the run has ended)
    device: str = "auto"
    checkpoint_dir: str | Path = "checkpoints"
    encoding: str | None = None
    corpora_dirs: list[str] | None = None
    generation_pace: float = 500.0  # characters per second shown; 0 = unpaced
