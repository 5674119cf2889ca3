"""Numeric precision of the training step: float32, or bfloat16 autocast where it pays.

Master weights, Adam's state and checkpoints stay float32 whatever the precision: only the
step's matrix products (the fused recurrent kernel, the output layer) run in bfloat16 under
`torch.autocast`, and the loss is computed in float32. A checkpoint trained in bf16 therefore
samples, resumes and opens on any machine.

`auto` picks bf16 where the hardware has it and it is faster *here*: on a CPU, when the
processor reports bf16 instructions (AVX512_BF16 or AMX) and a short timed trial of the run's
own step in both precisions shows bf16 ahead; on CUDA, when the GPU supports bf16. Otherwise
float32. The choice and the reason are said in the run's first progress line.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from chartui.config import PRECISIONS
from chartui.errors import ChartuiError
from chartui.model import CharRNN, ModelConfig

FASTER_BY = 0.9  # auto takes bf16 when its step takes at most this share of float32's
TRIAL_STEPS = 2  # timed steps of a shape the planner measures (after one warm-up step)
TRIAL_ROUNDS = 3  # rounds of one fp32 and one bf16 step in auto's comparison
STEP_OVERHEAD = 1.15  # a whole training step against a trial's forward and backward pass


@dataclass(frozen=True)
class Precision:
    """The precision a run trains in (`fp32` or `bf16`) and why, in a few words."""

    name: str
    reason: str

    def autocast(self, device: torch.device):
        """The context a training step runs in: bf16 autocast, or nothing for float32."""
        if self.name != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=torch.bfloat16)


def cpu_bf16_flags() -> list[str]:
    """The processor's bf16 features that PyTorch reports (e.g. ['AVX512_BF16', 'AMX'])."""
    cpu = getattr(torch, "cpu", None)
    found = []
    for name, probe in (("AVX512_BF16", "_is_avx512_bf16_supported"),
                        ("AMX", "_is_amx_tile_supported")):
        check = getattr(cpu, probe, None)
        try:
            if check is not None and check():
                found.append(name)
        except Exception:  # noqa: BLE001 - a probe that fails means we do not know: no flag
            pass
    return found


def capability_summary() -> dict:
    """What benchmarks print about the CPU: ATen's capability and the bf16 flags."""
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "bf16_flags": cpu_bf16_flags(),
            "torch": torch.__version__}


StepTrial = Callable[[], None]  # one forward and backward pass of the run's step


def _timed(step: StepTrial, precision: Precision, device: torch.device) -> float:
    began = time.perf_counter()
    with precision.autocast(device):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - began


def time_step(step: StepTrial, precision: Precision, device: torch.device) -> float:
    """The fastest of a few timed calls of `step` under `precision` (one warm-up first)."""
    _timed(step, precision, device)
    return min(_timed(step, precision, device) for _ in range(TRIAL_STEPS))


def compare_steps(step: StepTrial, device: torch.device) -> dict[str, float]:
    """The fastest call of `step` in each precision, the two taken in turns (after a warm-up
    of each), so that a neighbour busy for a moment on a shared machine slows both alike."""
    precisions = (Precision("bf16", ""), Precision("fp32", ""))
    for precision in precisions:
        _timed(step, precision, device)
    best = {precision.name: float("inf") for precision in precisions}
    for _ in range(TRIAL_ROUNDS):
        for precision in precisions:
            best[precision.name] = min(best[precision.name], _timed(step, precision, device))
    return best


def choose_precision(requested: str, device: torch.device, step: StepTrial | None = None,
                     flags: list[str] | None = None) -> tuple[Precision, dict[str, float]]:
    """The precision to train in, and the seconds per step the trial measured (may be empty).

    `step` runs one forward and backward pass of the run's model on a batch of its shape
    (on copies: the run's weights and random state are left alone). An explicit `bf16` that
    this machine cannot run is refused with one sentence.
    """
    if requested not in PRECISIONS:
        raise ChartuiError(f"precision '{requested}' is not known; use one of: "
                           f"{', '.join(PRECISIONS)}")
    if requested == "fp32":
        return Precision("fp32", "as asked"), {}
    bf16 = Precision("bf16", "")
    if device.type == "cuda":
        with torch.cuda.device(device):  # bf16 the GPU runs itself, not emulated
            native = torch.cuda.is_bf16_supported(including_emulation=False)
        if native:
            return Precision("bf16", "the GPU supports bf16"), {}
        if requested == "bf16":
            raise ChartuiError("this GPU has no bf16 support; use --precision fp32 (or auto)")
        return Precision("fp32", "the GPU has no bf16"), {}
    if device.type != "cpu":
        if requested == "bf16":
            return Precision("bf16", "as asked"), {}
        return Precision("fp32", f"bf16 is not tried on {device.type}"), {}
    flags = cpu_bf16_flags() if flags is None else flags
    if requested == "auto" and not flags:
        return Precision("fp32", "this CPU has no bf16 instructions (AVX512_BF16 or AMX)"), {}
    timings: dict[str, float] = {}
    if step is not None:
        try:
            if requested == "bf16":
                timings["bf16"] = time_step(step, bf16, device)
            else:
                timings = compare_steps(step, device)
        except RuntimeError as exc:
            if requested == "bf16":
                raise ChartuiError(
                    "this CPU cannot train in bf16 (its bf16 kernels refused the model: "
                    f"{str(exc).splitlines()[0][:120]}); use --precision fp32 (or auto)"
                ) from None
            return Precision("fp32", "bf16 failed on this CPU"), {}
    if requested == "bf16":
        return Precision("bf16", "as asked"), timings
    if step is None:
        return Precision("bf16", f"the CPU has {' and '.join(flags)}"), timings
    speedup = timings["fp32"] / timings["bf16"]
    if timings["bf16"] <= FASTER_BY * timings["fp32"]:
        return Precision("bf16", f"{' and '.join(flags)}; {speedup:.1f}x float32's speed "
                                 "in a trial step"), timings
    return Precision("fp32", f"bf16 was not faster here ({speedup:.2f}x float32 in a trial "
                             "step)"), timings


def trial_step(model: torch.nn.Module, batch_size: int, seq_len: int, engine: str,
               device: torch.device) -> StepTrial:
    """A forward and backward pass of a copy of `model` on random ids of the run's batch shape.

    The copy keeps the run's weights and optimiser untouched, and the random state is put
    back afterwards, so timing a trial never changes what the run computes.
    """
    trial = copy.deepcopy(model).to(device).train()
    vocab = trial.config.vocab_size
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch_size, seq_len + 1), generator=generator).to(device)

    def step() -> None:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            logits, _ = trial(ids[:, :-1], None, engine=engine)
            loss = torch.nn.functional.cross_entropy(
                logits.float().reshape(-1, vocab), ids[:, 1:].reshape(-1))
        loss.backward()
        trial.zero_grad(set_to_none=True)

    return step


class ShapeTrials:
    """Timed trial steps of a run's model (its cell too) at the shapes (hidden size, batch
    size) its set-up asks about, on its device: one decides the precision, the others tell the
    planner how fast each shape would train. A shape is timed once per precision choice; the
    run's random state is left alone."""

    def __init__(self, vocab_size: int, embedding_dim: int, num_layers: int, seq_len: int,
                 engine: str, device: torch.device, cell: str = "lstm") -> None:
        self.vocab_size, self.embedding_dim, self.num_layers = vocab_size, embedding_dim, num_layers
        self.seq_len, self.engine, self.device, self.cell = seq_len, engine, device, cell
        self._seconds: dict[tuple[int, int], float] = {}  # a step's time in the chosen precision

    def _step(self, hidden: int, batch: int) -> StepTrial:
        with torch.random.fork_rng(devices=[]):  # building the trial model draws weights
            model = CharRNN(ModelConfig(self.vocab_size, self.embedding_dim, hidden,
                                         self.num_layers, 0.0, self.cell))
        return trial_step(model, batch, self.seq_len, self.engine, self.device)

    def choose_precision(self, requested: str, hidden: int, batch: int) -> Precision:
        """`choose_precision`, from a trial of this shape (none is needed for fp32)."""
        if requested == "fp32":
            return choose_precision("fp32", self.device)[0]
        chosen, timings = choose_precision(requested, self.device, self._step(hidden, batch))
        if chosen.name in timings:  # the planner need not time this shape again
            self._seconds[(hidden, batch)] = timings[chosen.name]
        return chosen

    def speed(self, precision: Precision) -> Callable[[int, int], float]:
        """Training chars/s of a shape (hidden size, batch size) in `precision`, measured."""
        def chars_per_second(hidden: int, batch: int) -> float:
            seconds = self._seconds.get((hidden, batch))
            if seconds is None:
                seconds = time_step(self._step(hidden, batch), precision, self.device)
            # the optimiser, clipping and batching add about a sixth to the trial's step
            return batch * self.seq_len / (seconds * STEP_OVERHEAD)
        return chars_per_second
