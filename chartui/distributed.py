"""Training one model with several processes: PyTorch's DistributedDataParallel under torchrun.

`torchrun --nproc-per-node N -m chartui train CORPUS` starts N copies of `chartui train` and
tells each its place in the environment (`RANK`, `LOCAL_RANK`, `WORLD_SIZE`, `MASTER_ADDR`,
`MASTER_PORT`). `World.from_env` reads them; without them (or with a world of one) nothing
changes: a `World()` of one process does no communication at all.

The processes talk over gloo on CPUs (TCP, loopback on one machine) and NCCL on CUDA GPUs (one
GPU per process, `cuda:LOCAL_RANK`). Everything that decides what a run does next (its learning
rate, whether it stops, diverged, saves or found its best) is agreed on by every process, so
they all take the same steps; rank 0 alone prints and writes files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from chartui.errors import ChartuiError

BACKENDS = {"cpu": "gloo", "cuda": "nccl"}


@dataclass(frozen=True)
class World:
    """This process's place among the processes training one model: its rank (0 is the one
    that prints and writes files), its rank on this machine, how many there are, the backend
    they talk over, and the device collectives run on."""

    rank: int = 0
    local_rank: int = 0
    size: int = 1
    backend: str | None = None  # None: a single process, no process group
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> World:
        """The world torchrun describes in the environment (not yet joined), or a single
        process when `WORLD_SIZE` is missing or 1."""
        env = os.environ if environ is None else environ
        try:
            size = int(env.get("WORLD_SIZE", "1"))
            rank, local_rank = int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0"))
        except ValueError:
            raise ChartuiError("WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers (torchrun "
                               "sets them)") from None
        if size <= 1:
            return cls()
        return cls(rank=rank, local_rank=local_rank, size=size)

    @property
    def active(self) -> bool:
        """Whether there are other processes to agree with."""
        return self.size > 1

    @property
    def main(self) -> bool:
        """Whether this is rank 0: the process that prints and writes files."""
        return self.rank == 0

    def describe(self) -> str:
        """The world in a few words, for the first progress line ("2 processes, gloo")."""
        return f"{self.size} processes, {self.backend}"

    # --- collectives (each a no-op for a single process; every rank must call them alike) -------

    def gather_floats(self, values: list[float]) -> np.ndarray:
        """Every rank's `values`, one row per rank in rank order (float64). The same array on
        every rank, so anything computed from it is decided alike everywhere."""
        mine = torch.tensor(values, dtype=torch.float64, device=self.device)
        if not self.active:
            return mine.cpu().numpy()[None, :]
        rows = [torch.empty_like(mine) for _ in range(self.size)]
        torch.distributed.all_gather(rows, mine)
        return torch.stack(rows).cpu().numpy()

    def mean(self, value: float) -> float:
        """The mean of every rank's `value`, added in rank order (the same bits everywhere)."""
        if not self.active:
            return value
        return float(self.gather_floats([value])[:, 0].sum() / self.size)

    def total(self, value: float) -> float:
        """The sum of every rank's `value`, in rank order."""
        if not self.active:
            return value
        return float(self.gather_floats([value])[:, 0].sum())

    def gather_rows(self, tensor: torch.Tensor, dim: int) -> torch.Tensor:
        """Every rank's `tensor` (each the same shape) joined along `dim` in rank order, on
        every rank; e.g. each rank's share of the streams' state put back together."""
        if not self.active:
            return tensor
        local = tensor.detach().to(self.device).contiguous()
        parts = [torch.empty_like(local) for _ in range(self.size)]
        torch.distributed.all_gather(parts, local)
        return torch.cat(parts, dim=dim).to(tensor.device)

    def share(self, value):
        """Rank 0's `value` (any picklable object), on every rank."""
        if not self.active:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0, device=self.device)
        return box[0]

    def shared_batch(self, batch_size: int) -> None:
        """Refuse a global batch that the processes cannot share evenly."""
        if batch_size % self.size:
            raise ChartuiError(f"--batch-size {batch_size} (the global batch) cannot be shared "
                               f"evenly by {self.size} processes; use a multiple of {self.size}")

    def step_model(self, model: torch.nn.Module, device: torch.device,
                   seed: int) -> torch.nn.Module:
        """What a training step runs: `model` itself in a single process; with several, the
        model in DistributedDataParallel, which starts every rank from rank 0's weights. Each
        rank then draws its own dropout masks (seeded from `seed` and its rank), while rank 0
        keeps the run's random state, as it is saved."""
        if not self.active:
            return model
        run_state = torch.get_rng_state()
        torch.manual_seed(seed + 1_000_003 * self.rank)
        wrapped = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device] if device.type == "cuda" else None)
        if self.main:
            torch.set_rng_state(run_state)
        return wrapped

    def decided_by_main(self, decide):
        """`decide()` run on rank 0 alone and its result (or the ChartuiError it raised) given to
        every rank, which then all return it (or all raise). Others wait meanwhile, so rank 0's
        timed trials run on a quiet machine."""
        if not self.active:
            return decide()
        outcome: tuple = (None, None)
        if self.main:
            try:
                outcome = (decide(), None)
            except ChartuiError as exc:
                outcome = (None, str(exc))
        result, error = self.share(outcome)
        if error is not None:
            raise ChartuiError(error)
        return result


def device_for(world: World, requested: str) -> str:
    """The device this process trains on: under torchrun `cuda:LOCAL_RANK` when CUDA is
    asked for (or `auto` finds it), else the CPU; a single process keeps `requested`."""
    if not world.active:
        return requested
    if requested == "auto":
        return f"cuda:{world.local_rank}" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(requested).type if requested else "cpu"
    except RuntimeError:
        raise ChartuiError(f"'{requested}' is not a device name; use auto, cpu or cuda"
                           ) from None
    if kind == "cuda":
        return f"cuda:{world.local_rank}"
    if kind != "cpu":
        raise ChartuiError(f"training with several processes runs on CPUs (gloo) or CUDA GPUs "
                           f"(NCCL), not on {kind}; use --device cpu or cuda")
    return "cpu"


@contextlib.contextmanager
def joined(requested_device: str, environ: Mapping[str, str] | None = None
           ) -> Iterator[tuple[World, str]]:
    """Join the process group torchrun describes (gloo on the CPU, NCCL on CUDA) for the
    length of the block, and leave it on every way out; yields the world and the device to
    train on. Without torchrun's variables it yields a single process and `requested_device`,
    and touches nothing."""
    world = World.from_env(environ)
    if not world.active:
        yield world, requested_device
        return
    env = os.environ if environ is None else environ
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not env.get(name)]
    if missing:
        raise ChartuiError(f"WORLD_SIZE is {world.size} but {' and '.join(missing)} "
                           f"{'is' if len(missing) == 1 else 'are'} not set; start several "
                           "processes with torchrun (see the README)")
    device_name = device_for(world, requested_device)
    device = torch.device(device_name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ChartuiError("CUDA was asked for but this PyTorch sees no CUDA GPU; use "
                               "--device cpu")
        if world.local_rank >= torch.cuda.device_count():
            raise ChartuiError(f"process {world.local_rank} on this machine has no GPU of its "
                               f"own ({torch.cuda.device_count()} GPUs); start at most that "
                               "many processes per node (--nproc-per-node)")
        torch.cuda.set_device(device)
    backend = BACKENDS[device.type]
    torch.distributed.init_process_group(backend=backend, rank=world.rank,
                                         world_size=world.size)
    world = World(world.rank, world.local_rank, world.size, backend, device)
    try:
        yield world, device_name
        _wait_for_the_others()
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _wait_for_the_others() -> None:
    """At a run's normal end, before leaving the group: no process closes its connections
    while another may still be talking to it (a rank left alone in gloo's teardown can be
    aborted, which was seen once in twenty runs). A peer that is already gone is no error."""
    try:
        torch.distributed.barrier()
    except RuntimeError:
        pass
