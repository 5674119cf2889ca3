from pathlib import Path

import pytest

from chartui.corpus import load_corpus

REPO = Path(__file__).resolve().parent.parent
FAQ = REPO / "corpora" / "chartui-faq.txt"


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch):
    monkeypatch.delenv("CHARTUI_CORPORA", raising=False)


@pytest.fixture
def one_torch_thread():
    """Tiny models: one thread is as fast, and does not stall on a busy 2-core machine."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def faq():
    """The small corpus we ship (about 56k characters of English)."""
    return load_corpus(str(FAQ))


def tiny_config(**changes):
    """A small, quick model for tests."""
    from chartui.config import preset
    values = dict(embedding_dim=16, hidden_size=48, batch_size=16, seq_len=32, iterations=60,
                  eval_every=30, sample_every=0, warmup_steps=5, eval_max_chars=4096, seed=7,
                  precision="fp32")
    values.update(changes)
    return preset("default").override(**values)


def bf16_runs_here() -> bool:
    """Whether this CPU trains a small LSTM step under bf16 autocast (oneDNN refuses one
    where the processor has no bf16 support, or when limited with ONEDNN_MAX_CPU_ISA)."""
    import torch

    from chartui.model import CharLSTM, ModelConfig
    from chartui.precision import Precision, trial_step
    step = trial_step(CharLSTM(ModelConfig(20, 8, 16)), 2, 4, "fast", torch.device("cpu"))
    try:
        with Precision("bf16", "").autocast(torch.device("cpu")):
            step()
    except RuntimeError:
        return False
    return True


needs_bf16 = pytest.mark.skipif(not bf16_runs_here(), reason="this CPU cannot run bf16 LSTMs")
