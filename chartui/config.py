"""Training settings and the presets.

`lesson` is the LSTMCell lesson, `anna` the Anna Karenina char-LSTM tutorial, and `default`
a setting that learns fast on a 2-core CPU: a five-minute run whose model (hidden size, batch
size, dropout: the fields left empty) is sized for its time budget when it starts
(`chartui.planner`). Any field can be overridden.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from chartui.errors import ChartuiError


class SettingError(ChartuiError):
    """A refused hyperparameter; `field` names it so a form can point at it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TrainConfig:
    """Every hyperparameter of a training run."""

    preset: str = "default"
    # model
    embedding_dim: int = 64
    hidden_size: int | None = None      # None: sized for the time budget (chartui.planner)
    num_layers: int = 1
    dropout: float | None = None        # None: chosen for the time budget
    vocabulary: str = "corpus"          # "corpus" (its own characters) or "printable"
    # optimisation
    batch_size: int | None = None       # None: chosen for the time budget
    seq_len: int = 50
    batching: str = "stream"            # "stream" (state carried) or "random" windows
    lr: float = 1e-2
    schedule: str = "cosine"            # "cosine" (warm-up, then cosine decay) or "constant"
    warmup_steps: int = 50
    min_lr_ratio: float = 0.02
    clip: float = 5.0                   # gradient-norm clipping; 0 turns it off
    iterations: int | None = None       # None: until --max-time runs out
    max_time: float | None = 300.0      # seconds; plans the schedule (and the model) when given
    engine: str = "fast"                # "fast" (fused kernel) or "cell" (per-step loop)
    precision: str = "auto"             # "auto", "fp32" or "bf16" (chartui.precision)
    seed: int = 1234
    # evaluation, samples
    val_fraction: float = 0.1
    eval_every: int = 400
    eval_max_chars: int = 131_072       # the final evaluation scores up to this many
    eval_sample_chars: int = 16_384     # each periodic one, a subset spread over the text
    sample_every: int = 400
    sample_prime: str = "Th"
    sample_length: int = 200
    sample_temperature: float = 0.8
    sample_top_k: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def override(self, **changes) -> "TrainConfig":
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
        """Refuse silly values with one clear sentence."""
        def bad(name: str, value, rule: str):
            raise SettingError(f"{name.replace('_', '-')} {value!r} is not allowed: {rule}", name)

        def whole(name: str, low: int, high: int):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                bad(name, value, f"use a whole number from {low:,} to {high:,}")

        def real(name: str, low: float, high: float, low_open: bool = False):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and math.isfinite(value) and (
                low < value if low_open else low <= value) and value <= high
            if not ok:
                side = f"above {low:g}" if low_open else f"from {low:g}"
                bad(name, value, f"use a number {side} up to {high:g}")

        whole("embedding_dim", 1, 4096)
        if self.hidden_size is not None:
            whole("hidden_size", 1, 8192)
        whole("num_layers", 1, 16)
        if self.dropout is not None:
            real("dropout", 0.0, 0.95)
        if self.batch_size is not None:
            whole("batch_size", 1, 65_536)
        whole("seq_len", 1, 100_000)
        real("lr", 0.0, 10.0, low_open=True)
        whole("warmup_steps", 0, 10_000_000)
        real("min_lr_ratio", 0.0, 1.0)
        real("clip", 0.0, 1e6)
        if self.iterations is not None:
            whole("iterations", 1, 1_000_000_000)
        if self.max_time is not None:
            real("max_time", 0.0, 1e8, low_open=True)
        whole("seed", 0, 2**63 - 1)
        real("val_fraction", 0.0, 0.5)
        whole("eval_every", 1, 1_000_000_000)
        whole("eval_max_chars", 1, 1_000_000_000)
        whole("eval_sample_chars", 1, 1_000_000_000)
        whole("sample_every", 0, 1_000_000_000)
        whole("sample_length", 1, 100_000)
        real("sample_temperature", 0.0, MAX_TEMPERATURE)
        if self.sample_top_k is not None:
            whole("sample_top_k", 1, 1_000_000)
        if self.schedule not in SCHEDULES:
            bad("schedule", self.schedule, f"use one of: {', '.join(SCHEDULES)}")
        if self.batching not in BATCHING:
            bad("batching", self.batching, f"use one of: {', '.join(BATCHING)}")
        if self.engine not in ("fast", "cell"):
            bad("engine", self.engine, "use fast or cell")
        if self.precision not in PRECISIONS:
            bad("precision", self.precision, f"use one of: {', '.join(PRECISIONS)}")
        if self.vocabulary not in ("corpus", "printable"):
            bad("vocabulary", self.vocabulary, "use corpus or printable")
        if self.iterations is None and self.max_time is None:
            raise SettingError("give --iterations or --max-time, or training would never end",
                               "iterations")


SCHEDULES = ("cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16")
BATCHING = ("stream", "random")

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


MAX_TEMPERATURE = 10.0  # the highest a sample may ask for
# the app's [ ] keys move in these steps up to this (beyond it text is mostly noise)
TEMPERATURE_KEY_STEP, TEMPERATURE_KEY_MAX = 0.1, 2.0
MAX_LENGTH = 1_000_000


@dataclass
class SamplingSettings:
    """Knobs a running `sample_stream` reads before every character, so they can be turned live."""

    temperature: float = 0.8
    top_k: int | None = None  # None: every character may be drawn

    def validate(self, vocab_size: int) -> None:
        check_temperature(self.temperature)
        check_top_k(self.top_k, vocab_size)


def check_temperature(value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value)
            and 0 <= value <= MAX_TEMPERATURE):
        raise ChartuiError(f"temperature {value} is out of range; use a number from 0 (greedy) "
                           f"to {MAX_TEMPERATURE:g} (0.5-1.0 is the usual range)")


def check_top_k(value: int | None, vocab_size: int) -> None:
    if value is not None and not (1 <= value <= vocab_size):
        raise ChartuiError(f"top-k {value} is out of range; use 1 to {vocab_size} (the vocabulary "
                           "size), or leave it out to allow every character")


def check_length(value: int) -> None:
    if not 0 < value <= MAX_LENGTH:
        raise ChartuiError(f"length {value} is out of range; ask for 1 to {MAX_LENGTH:,} "
                           "characters")


def parameter_count(config: TrainConfig, vocab_size: int) -> int | None:
    """How many weights the CharLSTM for `config` has (without building it); None while its
    hidden size is still to be chosen for the time budget."""
    if config.hidden_size is None:
        return None
    e, h, v = config.embedding_dim, config.hidden_size, vocab_size
    lstm = sum(4 * h * ((e if i == 0 else h) + h) + 8 * h for i in range(config.num_layers))
    return v * e + lstm + h * v + v
