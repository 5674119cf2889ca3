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
                  eval_every=30, sample_every=0, warmup_steps=5, eval_max_chars=4096, seed=7)
    values.update(changes)
    return preset("default").override(**values)
