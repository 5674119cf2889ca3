"""Training settings and the presets.

`lesson` is the LSTMCell lesson, `anna` the Anna Karenina char-LSTM tutorial, and `default`
a setting that learns fast on a 2-core CPU: a five-minute run whose model (hidden size, batch
size, dropout: the fields left empty) is sized for its time budget when it starts
(`chartui.planner`). Any field can be overridden.

Each field of `TrainConfig` carries a `Setting` (its field metadata): what values it accepts,
its label on the settings screen, its `chartui train` option and that option's help.
`TrainConfig.validate`, the command line and the settings form are all derived from it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from chartui.errors import ChartuiError

MAX_TEMPERATURE = 10.0  # the highest a sample may ask for
# the app's [ ] keys move in these steps up to this (beyond it text is mostly noise)
TEMPERATURE_KEY_STEP, TEMPERATURE_KEY_MAX = 0.1, 2.0
MAX_LENGTH = 1_000_000
MAX_BEAM_WIDTH = 64  # beam search steps the cells this many times per character
MAX_SEED = 2**63 - 1  # seeds are whole numbers that fit a signed 64-bit integer
# The recurrent cells a model may be built from, each with its number of gates: the blocks of
# hidden-size rows its weight matrices have (LSTM: input, forget, cell, output; GRU: reset,
# update, new; a plain tanh RNN: one).
CELL_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


class SettingError(ChartuiError):
    """A refused hyperparameter; `field` names it so a form can point at it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Setting:
    """What one `TrainConfig` field accepts and how people see it: the one source for its rule
    (`validate`), its `chartui train` option and its row on the settings screen.

    `kind` is "whole" (an int from `low` to `high`), "real" (a finite number from `low`, or
    above it when `low_open`, up to `high`), "choice" (one of `choices`) or "text" (any string).
    `optional` says what None means, in a word or two for the form ("fit time": empty is sized
    for the time budget); None: a value is required.
    """

    kind: Literal["whole", "real", "choice", "text"]
    label: str                  # the settings form's label
    help: str                   # the command-line option's one-line help
    low: float = 0
    high: float = 0
    low_open: bool = False
    choices: tuple[str, ...] = ()
    optional: str | None = None
    flag: str | None = None     # the option's name when it is not the field's, e.g. "hidden"
    metavar: str | None = None  # the option's placeholder in --help, when not the field's name

    def allows(self, value: Any) -> bool:
        """Whether `value` obeys this setting's rule (None is `validate`'s concern)."""
        if self.kind == "whole":
            return (isinstance(value, int) and not isinstance(value, bool)
                    and self.low <= value <= self.high)
        if self.kind == "real":
            return (isinstance(value, (int, float)) and math.isfinite(value)
                    and (self.low < value if self.low_open else self.low <= value)
                    and value <= self.high)
        if self.kind == "choice":
            return value in self.choices
        return isinstance(value, str)

    def rule(self) -> str:
        """The advice for a refused value, e.g. "use a whole number from 1 to 16"."""
        if self.kind == "whole":
            return f"use a whole number from {self.low:,} to {self.high:,}"
        if self.kind == "real":
            side = f"above {self.low:g}" if self.low_open else f"from {self.low:g}"
            return f"use a number {side} up to {self.high:g}"
        if self.kind == "choice":
            return f"use one of: {', '.join(self.choices)}"
        return "use text"


def _setting(default: Any, setting: Setting) -> Any:
    """A dataclass field with `default` that carries `setting` as its metadata."""
    return field(default=default, metadata={"setting": setting})


def _whole(default: int | None, low: int, high: int, label: str, help: str, **more) -> Any:
    return _setting(default, Setting("whole", label, help, low=low, high=high, **more))


def _real(default: float | None, low: float, high: float, label: str, help: str,
          **more) -> Any:
    return _setting(default, Setting("real", label, help, low=low, high=high, **more))


def _choice(default: str, choices: tuple[str, ...], label: str, help: str, **more) -> Any:
    return _setting(default, Setting("choice", label, help, choices=choices, **more))


def _text(default: str, label: str, help: str, **more) -> Any:
    return _setting(default, Setting("text", label, help, **more))


@dataclass(frozen=True)
class TrainConfig:
    """Every hyperparameter of a training run, each with its `Setting` (see `settings`)."""

    preset: str = "default"  # the preset the other fields started from
    # model
    embedding_dim: int = _whole(64, 1, 4096, "embedding size",
                                "size of each character's embedding vector", flag="embedding")
    hidden_size: int | None = _whole(
        None, 1, 8192, "hidden", "units per layer (left out: sized for the time budget)",
        optional="fit time", flag="hidden")
    num_layers: int = _whole(1, 1, 16, "layers", "stacked recurrent layers", flag="layers")
    cell: str = _choice("lstm", tuple(CELL_GATES), "cell",
                        "the recurrent cell: lstm (default), gru or rnn (a plain tanh RNN)")
    dropout: float | None = _real(
        None, 0.0, 0.95, "dropout",
        "dropout on each layer's output (left out: chosen for the time budget)", optional="fit")
    vocabulary: str = _choice("corpus", ("corpus", "printable"), "vocabulary",
                              "corpus (its own characters) or printable "
                              "(the lesson's string.printable)")
    # optimisation
    batch_size: int | None = _whole(
        None, 1, 65_536, "batch",
        "windows trained on at once (left out: chosen for the time budget)", optional="fit time")
    seq_len: int = _whole(50, 1, 100_000, "window (chars)", "characters per training window")
    batching: str = _choice("stream", ("stream", "random"), "batches",
                            "stream (continuous streams, state carried; default) "
                            "or random (random windows from a zero state)")
    lr: float = _real(1e-2, 0.0, 10.0, "learning rate (Adam)", "Adam learning rate",
                      low_open=True)
    schedule: str = _choice("cosine", ("cosine", "constant"), "lr schedule",
                            "cosine (warm-up then cosine decay) or constant")
    warmup_steps: int = _whole(50, 0, 10_000_000, "warm-up steps",
                               "steps of linear learning-rate warm-up", flag="warmup")
    min_lr_ratio: float = _real(
        0.02, 0.0, 1.0, "final lr ratio",
        "where the cosine schedule ends, as a share of --lr (default 0.02)")
    clip: float = _real(5.0, 0.0, 1e6, "grad-norm clip (0 off)",
                        "gradient-norm clipping (0 = off)")
    iterations: int | None = _whole(
        None, 1, 1_000_000_000, "iterations",
        "training steps to run (without --max-time, steps alone decide)", optional="time")
    max_time: float | None = _real(
        300.0, 0.0, 1e8, "time limit s",
        "stop after this many seconds (default preset: 300); the learning-rate schedule, and "
        "the model when --hidden, --batch-size or --dropout are left out, are planned for this "
        "time (without --iterations, time alone decides)",
        low_open=True, optional="none", metavar="SECONDS")
    engine: str = _choice("fast", ("fast", "cell"), "engine",
                          "fast (fused kernel, default) or cell (per-step loop)")
    precision: str = _choice("auto", ("auto", "fp32", "bf16"), "precision",
                             "auto (bf16 where this machine has it and it is faster, else fp32; "
                             "default), fp32 or bf16")
    seed: int = _whole(1234, 0, MAX_SEED, "seed",
                       "seeds the weights, the batches and the samples")
    # evaluation, samples
    val_fraction: float = _real(0.1, 0.0, 0.5, "validation share",
                                "share of the text held out for validation (default 0.1)")
    eval_every: int = _whole(400, 1, 1_000_000_000, "evaluate every",
                             "steps between evaluations on the held-out text")
    eval_max_chars: int = _whole(
        131_072, 1, 1_000_000_000, "final eval chars",
        "most validation characters scored by the final evaluation", flag="eval-chars")
    eval_sample_chars: int = _whole(
        16_384, 1, 1_000_000_000, "periodic eval chars",
        "validation characters scored by each periodic evaluation")
    sample_every: int = _whole(400, 0, 1_000_000_000, "sample every (0 off)",
                               "0 = no periodic samples")
    sample_prime: str = _text("Th", "sample prime", "prime for periodic samples", flag="prime")
    sample_length: int = _whole(200, 1, 100_000, "sample length",
                                "characters in each periodic sample")
    sample_temperature: float = _real(0.8, 0.0, MAX_TEMPERATURE, "sample temperature",
                                      "temperature of periodic samples (0 = greedy)")
    sample_top_k: int | None = _whole(
        None, 1, 1_000_000, "sample top-k",
        "periodic samples draw from the K likeliest characters (left out: all)",
        optional="all")

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """Each field's `Setting` by field name, in field order: every field but `preset`."""
        return {f.name: f.metadata["setting"] for f in fields(cls) if "setting" in f.metadata}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def override(self, **changes) -> TrainConfig:
        """A copy with the given fields changed (None values are ignored).

        A run ends after its iterations or its time budget: giving one of them alone means
        that one decides, so the other one of the preset is dropped.
        """
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ChartuiError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        changes = {k: v for k, v in changes.items() if v is not None}
        if "iterations" in changes and "max_time" not in changes:
            changes["max_time"] = None
        elif "max_time" in changes and "iterations" not in changes:
            changes["iterations"] = None
        return replace(self, **changes)

    def validate(self) -> None:
        """Refuse silly values with one clear sentence: each field by its `Setting`'s rule (None
        only where the setting is optional), then whether the run would end at all."""
        for name, setting in self.settings().items():
            value = getattr(self, name)
            if not (value is None and setting.optional) and not setting.allows(value):
                raise SettingError(f"{name.replace('_', '-')} {value!r} is not allowed: "
                                   f"{setting.rule()}", name)
        if self.iterations is None and self.max_time is None:
            raise SettingError("give --iterations or --max-time, or training would never end",
                               "iterations")


PRECISIONS = TrainConfig.settings()["precision"].choices
ENGINES = TrainConfig.settings()["engine"].choices
CELLS = TrainConfig.settings()["cell"].choices

PRESETS: dict[str, TrainConfig] = {
    "default": TrainConfig(),
    "lesson": TrainConfig(
        preset="lesson", embedding_dim=100, hidden_size=128, num_layers=1, dropout=0.0,
        vocabulary="printable", batch_size=1, seq_len=200, batching="random", lr=0.005,
        schedule="constant", precision="fp32",
        warmup_steps=0, clip=0.0, iterations=5000, max_time=None, seed=123, eval_every=200,
        sample_every=200, sample_prime="Th", sample_length=200, sample_temperature=0.8),
    "anna": TrainConfig(
        preset="anna", embedding_dim=128, hidden_size=512, num_layers=2, dropout=0.5,
        batch_size=128, seq_len=100, lr=0.001, schedule="constant", warmup_steps=0, clip=5.0,
        iterations=2000, max_time=None, eval_every=100, sample_every=200, sample_prime="Anna",
        sample_length=200, sample_temperature=1.0, sample_top_k=5),
}


def preset(name: str) -> TrainConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ChartuiError(f"there is no preset '{name}'; use one of: {', '.join(PRESETS)}"
                           ) from None


def learning_rate(config: TrainConfig, step: int, time_fraction: float = 0.0) -> float:
    """The learning rate for `step`: linear warm-up, then cosine decay to min_lr_ratio * lr.

    Progress is the larger of step / iterations and `time_fraction` (the share of the time
    budget used), so a time budget plans the decay for the time given.
    """
    if config.schedule == "constant":
        return config.lr
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = time_fraction if config.max_time else 0.0
    if config.iterations:
        span = max(1, config.iterations - config.warmup_steps)
        progress = max(progress, (step - config.warmup_steps) / span)
    progress = min(1.0, max(0.0, progress))
    floor = config.lr * config.min_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass
class SamplingSettings:
    """Knobs a running `sample_stream` reads before every character, so they can be turned live."""

    temperature: float = 0.8
    top_k: int | None = None  # None: every character may be drawn
    top_p: float | None = None  # None: no nucleus; else the likeliest characters making up p

    def validate(self, vocab_size: int) -> None:
        check_temperature(self.temperature)
        check_top_k(self.top_k, vocab_size)
        check_top_p(self.top_p)


def check_temperature(value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value)
            and 0 <= value <= MAX_TEMPERATURE):
        raise ChartuiError(f"temperature {value} is out of range; use a number from 0 (greedy) "
                           f"to {MAX_TEMPERATURE:g} (0.5-1.0 is the usual range)")


def check_top_k(value: int | None, vocab_size: int) -> None:
    if value is not None and not (1 <= value <= vocab_size):
        raise ChartuiError(f"top-k {value} is out of range; use 1 to {vocab_size} (the vocabulary "
                           "size), or leave it out to allow every character")


def check_top_p(value: float | None) -> None:
    if value is not None and not (isinstance(value, (int, float)) and 0 < value <= 1):
        raise ChartuiError(f"top-p {value} is out of range; use a probability above 0 and up to "
                           "1 (0.9 is usual; 1 allows every character), or leave it out")


def check_beam_width(value: int) -> None:
    if not 1 <= value <= MAX_BEAM_WIDTH:
        raise ChartuiError(f"beam width {value} is out of range; keep 1 to {MAX_BEAM_WIDTH} "
                           "continuations (1 is greedy; 3 to 10 is usual)")


def check_length(value: int) -> None:
    if not 0 < value <= MAX_LENGTH:
        raise ChartuiError(f"length {value} is out of range; ask for 1 to {MAX_LENGTH:,} "
                           "characters")


def parameter_count(config: TrainConfig, vocab_size: int) -> int | None:
    """How many weights the CharRNN for `config` has (without building it); None while its
    hidden size is still to be chosen for the time budget."""
    if config.hidden_size is None:
        return None
    e, h, v = config.embedding_dim, config.hidden_size, vocab_size
    gates = CELL_GATES.get(config.cell, 4) * h  # each gate: a block of h rows and two biases
    cells = sum(gates * ((e if i == 0 else h) + h + 2) for i in range(config.num_layers))
    return v * e + cells + h * v + v
