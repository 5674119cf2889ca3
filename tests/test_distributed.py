"""Training one model with several processes (`chartui.distributed`): two CPU processes over
loopback with gloo, as `torch.multiprocessing` spawns them and as torchrun starts them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from chartui.batches import Batches
from chartui.checkpoint import load_checkpoint, load_model
from chartui.distributed import World, device_for, joined
from chartui.errors import ChartuiError
from chartui.sampling import sample_text
from chartui.trainer import Trainer

from helpers import FAQ, REPO, tiny_config

STEPS = 30
SETTINGS = dict(iterations=STEPS, eval_every=15, dropout=0.0)  # no dropout: the same maths at any N
TORCHRUN = Path(sys.executable).with_name("torchrun")
needs_torchrun = pytest.mark.skipif(not TORCHRUN.exists(), reason="no torchrun beside python")
CLI_SETTINGS = ["--embedding", "16", "--hidden", "48", "--batch-size", "16", "--seq-len", "32",
                "--eval-every", "15", "--eval-chars", "4096", "--sample-every", "0",
                "--precision", "fp32", "--seed", "7"]


# --- without other processes --------------------------------------------------------------------

def test_the_world_comes_from_torchruns_variables_and_is_single_without_them():
    assert World.from_env({}) == World()
    assert not World().active and World().main
    world = World.from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert (world.rank, world.local_rank, world.size, world.active, world.main) == (3, 1, 4, True,
                                                                                    False)
    assert World.from_env({"WORLD_SIZE": "1", "RANK": "0"}) == World()
    # a single process does no communication: every collective gives its own value back
    single = World()
    assert single.mean(2.5) == 2.5 and single.total(2.5) == 2.5
    assert single.share({"a": 1}) == {"a": 1}
    assert device_for(single, "auto") == "auto"
    assert device_for(world, "cpu") == "cpu"
    with pytest.raises(ChartuiError, match="'gpu' is not a device name"):
        device_for(world, "gpu")
    with pytest.raises(ChartuiError, match="MASTER_ADDR and MASTER_PORT are not set"):
        with joined("cpu", {"WORLD_SIZE": "2", "RANK": "0"}):
            pass


@pytest.mark.parametrize("batching", ["stream", "random"])
def test_each_rank_reads_its_share_of_the_global_batch(faq, batching):
    config = tiny_config(batching=batching, batch_size=16)
    data = faq.split(0.1)[0]
    whole = Batches(data, config, torch.device("cpu"))
    shares = [Batches(data, config, torch.device("cpu"), World(rank=r, size=2)) for r in (0, 1)]
    for _ in range(3):
        x, y = whole.next()
        parts = [share.next() for share in shares]
        assert all(part[0].shape == (8, 32) for part in parts)
        assert torch.equal(torch.cat([p[0] for p in parts]), x)
        assert torch.equal(torch.cat([p[1] for p in parts]), y)


class _Heard(World):
    """A world whose ranks' reports before a step are given (no other processes)."""

    def __init__(self, rows):
        super().__init__(rank=1, size=2)
        object.__setattr__(self, "rows", np.array(rows, dtype=float))

    def gather_floats(self, values):
        return self.rows


def test_ranks_agree_on_rank_0s_clock_and_on_a_stop_any_of_them_heard(faq, tmp_path):
    from chartui.progress import RunState
    trainer = Trainer(faq, tiny_config(), device="cpu", checkpoint_dir=tmp_path)
    # rows: (stop code: 0 none, 1 stopped, 2 hangup, 3 interrupted; save asked; elapsed; reserve)
    trainer.world = _Heard([[0, 0, 5.0, 1.0], [0, 0, 9.0, 3.0]])
    assert trainer.agree(9.0, 3.0, None) == (5.0, 1.0)  # rank 0's clock, whatever this one's
    assert trainer._agreed_stop is None and not trainer._save_asked()
    assert trainer._reason_to_end(5.0, 1.0, None) is None
    trainer.world = _Heard([[0, 1, 6.0, 1.0], [2, 0, 9.0, 3.0]])  # rank 1 heard a hang-up
    trainer.agree(9.0, 3.0, None)
    assert trainer._save_asked()
    assert trainer._reason_to_end(6.0, 1.0, None) is RunState.HANGUP
    trainer.world = _Heard([[3, 0, 7.0, 1.0], [2, 0, 9.0, 3.0]])  # the first reason stands
    trainer.agree(9.0, 3.0, None)
    assert trainer._reason_to_end(7.0, 1.0, None) is RunState.HANGUP


@pytest.mark.e2e
@pytest.mark.parametrize("command", [[], ["watch"]])
def test_the_app_is_refused_under_torchrun(command):
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}
    result = subprocess.run([sys.executable, "-m", "chartui", *command], capture_output=True,
                            text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "torchrun" in result.stderr and "chartui train" in result.stderr


# --- two processes, spawned ---------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_trains(rank: int, port: int, folder: str) -> None:
    """One rank of a two-process run: train, then write its weights for the test to compare."""
    from chartui.corpus import load_corpus
    torch.set_num_threads(1)
    env = {"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    os.environ.update(env)
    with joined("cpu") as (world, device):
        trainer = Trainer(load_corpus(str(FAQ)), tiny_config(**SETTINGS), device=device,
                          checkpoint_dir=Path(folder) / "ck", world=world)
        done = trainer.run()
        torch.save({"state": trainer.model.state_dict(), "done": done.to_json(),
                    "train": trainer.history.train, "world": world.describe()},
                   Path(folder) / f"rank{rank}.pt")


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """A tiny model trained by two spawned processes; each one's weights and events."""
    folder = tmp_path_factory.mktemp("ddp")
    torch.multiprocessing.spawn(_rank_trains, args=(_free_port(), str(folder)), nprocs=2,
                                join=True)
    ranks = [torch.load(folder / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    return folder, ranks


@pytest.mark.slow
def test_two_ranks_train_one_model_that_a_single_process_would_train(two_ranks, faq, tmp_path,
                                                                       one_torch_thread):
    folder, ranks = two_ranks
    # the loss falls, and both ranks saw the same (global) losses and kept the same weights
    train = ranks[0]["train"]
    assert len(train) == STEPS and np.mean(train[-5:]) < 0.8 * train[0]
    assert ranks[1]["train"] == train
    for name, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][name]), name
    assert ranks[0]["done"]["state"] == "finished" and ranks[0]["world"] == "2 processes, gloo"
    # the global batch of 16 streams, shared 8 + 8: the same model as one process trains
    single = Trainer(faq, tiny_config(**SETTINGS), device="cpu", checkpoint_dir=tmp_path / "one")
    single.run()
    assert np.allclose(single.history.train, train, atol=1e-4)
    for name, value in single.model.state_dict().items():
        assert torch.allclose(value, ranks[0]["state"][name], atol=1e-4), name
    # rank 0 alone wrote the checkpoints and the run log; the checkpoint is a single run's
    files = sorted((folder / "ck").glob("*.pt"))
    assert [f.name for f in files] == [Path(single.checkpoints.latest).name]
    assert len(list((folder / "ck" / "runs").glob("*.json"))) == 1
    ours, theirs = load_checkpoint(files[0]), load_checkpoint(single.checkpoints.latest)
    assert sorted(ours) == sorted(theirs)
    assert sorted(ours["model_state"]) == sorted(theirs["model_state"])  # no "module." prefix
    assert ours["stream"]["h"].shape == theirs["stream"]["h"].shape == (1, 16, 48)
    assert torch.allclose(ours["stream"]["h"], theirs["stream"]["h"], atol=1e-4)
    assert ours["step"] == STEPS and ours["stream"]["position"] == theirs["stream"]["position"]


@pytest.mark.slow
def test_a_checkpoint_of_two_ranks_samples_and_resumes_with_one(two_ranks, faq, tmp_path,
                                                                 one_torch_thread):
    folder, _ = two_ranks
    path = next((folder / "ck").glob("*.pt"))
    model, vocab, _ = load_model(path)
    assert len(sample_text(model, vocab, "Th", 50, 0.8, None, seed=1)) >= 50
    resumed = Trainer(faq, tiny_config(**{**SETTINGS, "iterations": STEPS + 10}), device="cpu",
                      checkpoint_dir=tmp_path, resume=path)
    assert resumed.step == STEPS
    done = resumed.run()
    assert done.state == "finished" and done.step == STEPS + 10


def _rank_is_told_to_stop(rank: int, port: int, folder: str) -> None:
    """One rank of a run in which only rank 1 is told to stop (as a hang-up might reach one
    machine first), after step 12; each writes down where it stopped."""
    from chartui.corpus import load_corpus
    torch.set_num_threads(1)
    os.environ.update({"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    with joined("cpu") as (world, device):
        trainer = Trainer(load_corpus(str(FAQ)), tiny_config(**SETTINGS), device=device,
                          checkpoint_dir=Path(folder) / "ck", world=world)

        def told() -> bool:  # asked before every step, as a signal handler would have set it
            if rank == 1 and trainer.step >= 12:
                trainer.stop("hangup")
                return True
            return False

        done = trainer.run(should_stop=told)
        Path(folder, f"rank{rank}.json").write_text(json.dumps(done.to_json()))


@pytest.mark.slow
def test_a_stop_that_reaches_one_rank_stops_both_at_the_same_step(tmp_path):
    torch.multiprocessing.spawn(_rank_is_told_to_stop, args=(_free_port(), str(tmp_path)),
                                nprocs=2, join=True)
    ends = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ends[0]["step"] == ends[1]["step"] == 12
    assert ends[0]["state"] == ends[1]["state"] == "hangup"  # rank 0 says why rank 1 stopped
    saved = load_checkpoint(ends[0]["checkpoint"])
    assert saved["step"] == 12
    record = json.loads(next((tmp_path / "ck" / "runs").glob("*.json")).read_text())
    assert record["state"] == "hangup"


# --- two processes under torchrun, as a user starts them ----------------------------------------

def _torchrun(*args, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    env.pop("CHARTUI_DEBUG", None)
    return subprocess.Popen([str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "-m",
                             "chartui", "train", str(FAQ), *CLI_SETTINGS,
                             "--checkpoint-dir", str(folder), "--json", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=folder.parent, start_new_session=True)


@pytest.mark.slow
@pytest.mark.e2e
@needs_torchrun
def test_torchrun_resumes_a_single_process_checkpoint_with_two_ranks(trained_run, tmp_path):
    """`trained_run` was trained by one process for 20 steps (batch 16); two ranks go on."""
    run = _torchrun("--resume", trained_run.path, "--iterations", 30, folder=tmp_path / "ck")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events].count("start") == 1  # rank 1 prints nothing
    assert events[0]["message"].startswith("2 processes, gloo")
    assert events[0]["step"] == 20 and events[-1]["step"] == 30
    saved = load_checkpoint(events[-1]["checkpoint"])
    before = load_checkpoint(trained_run.path)
    assert saved["step"] == 30 and saved["optimizer_state"]["state"][0]["step"] > \
        before["optimizer_state"]["state"][0]["step"]
    assert torch.equal(saved["history"]["train"][:20], before["history"]["train"])


@pytest.mark.slow
@pytest.mark.e2e
@needs_torchrun
def test_ctrl_c_stops_both_ranks_together_and_rank_0_saves(tmp_path):
    run = _torchrun("--iterations", 100000, folder=tmp_path / "ck")
    try:
        for line in run.stdout:  # rank 0 is training once it reports a step
            if json.loads(line)["event"] == "step":
                break
        os.killpg(run.pid, signal.SIGINT)  # as Ctrl+C in a terminal: torchrun passes it on
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    done = json.loads(out.splitlines()[-1])
    assert done["event"] == "done" and done["state"] == "stopped", err
    assert done["message"] is None  # nothing failed: every process exits 0 (seen by hand)
    assert Path(done["checkpoint"]).exists()
    assert load_checkpoint(done["checkpoint"])["step"] == done["step"]
    record = json.loads(next((tmp_path / "ck" / "runs").glob("*.json")).read_text())
    assert record["state"] == "stopped" and record["step"] == done["step"]
    # every worker exited 0; torchrun itself, stopped by a signal, ends with its own status
    assert "ChildFailedError" not in err
