"""A model sized for the time budget.

With `--max-time` and no model shape given, the best model is not a fixed one: a short budget
wants a small model that sees the text often, a long one a wider model that would not have
finished learning in a short one, and once the budget buys several passes over the text the
model needs dropout not to learn it by heart. The planner takes the throughput of a few
candidate shapes, measured on this machine at the run's precision when the run starts, and
picks the widest one that still gets enough characters per weight in the time left.

Fields the user set (hidden size, batch size, dropout) are kept; only the empty ones are
chosen (with a hidden size given, the batch is the one planned for the nearest width).
Without a time budget the empty fields take `UNPLANNED`. `check_fits` refuses a shape that
the corpus or chartui cannot hold, before and after planning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from chartui.config import TrainConfig, parameter_count
from chartui.errors import ChartuiError

# (hidden size, batch size), narrowest first; each is tried only if the one before it fits.
CANDIDATES = ((256, 32), (384, 32), (512, 64), (768, 64), (1024, 128))
UNPLANNED = {"hidden_size": 256, "batch_size": 32, "dropout": 0.0}
PLANNED_FIELDS = tuple(UNPLANNED)
# The least training characters per weight a shape must get in the budget to be chosen.
MIN_CHARS_PER_PARAMETER = 3.0
# The most weights per training character of the corpus (wider models only memorise more).
MAX_PARAMETERS_PER_CHAR = 2.0
# Share of the time left that goes to training steps (evaluations, samples and the final
# checkpoint take the rest).
TRAINING_SHARE = 0.9
# Dropout grows with the passes over the text beyond the first few.
DROPOUT_FREE_PASSES = 3.0
DROPOUT_PER_PASS = 0.1
MAX_DROPOUT = 0.3
MAX_PARAMETERS = 200_000_000  # the largest model chartui trains

Speed = Callable[[int, int], float]  # (hidden size, batch size) -> training chars per second


@dataclass(frozen=True)
class Plan:
    """The settings to train with, and what the planner chose and why (None: not planned)."""

    config: TrainConfig
    summary: str | None = None


def needs_plan(config: TrainConfig) -> bool:
    return any(getattr(config, name) is None for name in PLANNED_FIELDS)


def unplanned(config: TrainConfig) -> TrainConfig:
    """`config` with its empty model fields set to the fixed defaults."""
    return replace(config, **{name: value for name, value in UNPLANNED.items()
                              if getattr(config, name) is None})


def dropout_for(passes: float) -> float:
    """Dropout for a run that reads the text `passes` times (0 for the first few passes)."""
    value = min(MAX_DROPOUT, max(0.0, DROPOUT_PER_PASS * (passes - DROPOUT_FREE_PASSES)))
    return round(value * 20) / 20  # in steps of 0.05


def plan_for_budget(config: TrainConfig, train_chars: int, vocab_size: int,
                    seconds_left: float, speed: Speed) -> Plan:
    """Choose the empty model fields of `config` for `seconds_left` of training.

    `speed` measures a shape's training characters per second; it is asked only for the
    shapes the planner considers, narrowest first, and not past the first that does not fit.
    Without a time budget (or with every field set) nothing is measured.
    """
    if not needs_plan(config):
        return Plan(config)
    if config.max_time is None:
        return Plan(unplanned(config))
    windows = max(1, train_chars - config.seq_len)
    candidates = CANDIDATES
    if config.hidden_size is not None:  # a width of one's own: the batch of the nearest one
        nearest = min(CANDIDATES, key=lambda shape: abs(shape[0] - config.hidden_size))
        candidates = ((config.hidden_size, nearest[1]),)
    shapes = []
    for hidden, batch in candidates:
        shape = (config.hidden_size or hidden, config.batch_size or batch)
        if shape not in shapes and shape[1] <= windows:
            shapes.append(shape)
    if not shapes:
        return Plan(unplanned(config))
    seconds = max(1.0, seconds_left) * TRAINING_SHARE
    chosen = None
    for hidden, batch in shapes:
        trial = replace(config, hidden_size=hidden, batch_size=batch, dropout=0.0)
        weights = parameter_count(trial, vocab_size)
        if chosen is not None and weights > MAX_PARAMETERS_PER_CHAR * train_chars:
            break
        chars = speed(hidden, batch) * seconds
        if chosen is not None and chars < MIN_CHARS_PER_PARAMETER * weights:
            break
        chosen = (hidden, batch, chars)
    hidden, batch, chars = chosen
    passes = chars / max(1, train_chars)
    dropout = config.dropout if config.dropout is not None else dropout_for(passes)
    planned = replace(config, hidden_size=hidden, batch_size=batch, dropout=dropout)
    summary = (f"model sized for {config.max_time:g} s: hidden {hidden}, batch {batch}, "
               f"dropout {dropout:g} (about {passes:.1f} passes over the text at "
               f"{chars / seconds / 1000:.0f}k chars/s)")
    return Plan(planned, summary)


def trial_shape(config: TrainConfig, train_chars: int) -> tuple[int, int]:
    """The shape (hidden size, batch size) whose trial step decides the precision: the run's
    own, or where the model is still to be sized, the planner's narrowest."""
    hidden = config.hidden_size or UNPLANNED["hidden_size"]
    batch = min(config.batch_size or UNPLANNED["batch_size"], max(1, train_chars - config.seq_len))
    return hidden, batch


def check_fits(config: TrainConfig, corpus_name: str, train_chars: int, vocab_size: int) -> None:
    """The window, and the batch once it is known, fit the corpus's `train_chars` training
    characters, and the model is not too large for chartui; raises ChartuiError if not."""
    need = config.seq_len + 1
    if train_chars < need:
        hint = (f"use --seq-len {train_chars - 1} or less, or " if train_chars > 2 else "use ")
        raise ChartuiError(
            f"corpus '{corpus_name}' has {train_chars:,} characters for training but one "
            f"window needs {need:,} (--seq-len + 1); {hint}a larger corpus")
    windows = train_chars - config.seq_len
    if config.batch_size is not None and config.batch_size > windows:
        raise ChartuiError(
            f"--batch-size {config.batch_size:,} is more than the {windows:,} different "
            f"windows of {config.seq_len} characters that corpus '{corpus_name}' has for "
            f"training; use --batch-size {windows:,} or less, or a larger corpus")
    size = parameter_count(config, vocab_size)
    if size is not None and size > MAX_PARAMETERS:
        raise ChartuiError(f"a model of {size:,} parameters is too large for chartui (at most "
                           f"{MAX_PARAMETERS:,}); use a smaller --hidden, --layers or "
                           "--embedding")
