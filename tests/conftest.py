"""Fixtures shared by the test files; the helpers they import are in helpers.py."""

from __future__ import annotations

import pytest

from chartui.corpus import load_corpus

from helpers import FAQ, TrainedCheckpoint, copy_run, train_checkpoint


@pytest.fixture(scope="session")
def _no_user_config(tmp_path_factory):
    return tmp_path_factory.mktemp("user-config") / "config.toml"  # never written


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch, _no_user_config):
    """No test (nor the chartui it starts in a process) reads the user's own settings: the
    config file (`CHARTUI_CONFIG`) and keymap are ones that do not exist, unless a test says
    otherwise."""
    monkeypatch.delenv("CHARTUI_CORPORA", raising=False)
    monkeypatch.delenv("CHARTUI_KEYMAP", raising=False)
    monkeypatch.setenv("CHARTUI_CONFIG", str(_no_user_config))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_no_user_config.parent))  # keymap.toml: none


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


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, faq) -> TrainedCheckpoint:
    """A tiny model trained once per session on the FAQ (helpers.TRAINED_STEPS steps), its
    checkpoint and run log in a folder of their own: for tests that only read it. A test that
    changes the files, or needs them in its own folder, takes `trained_checkpoint`."""
    return train_checkpoint(tmp_path_factory.mktemp("trained"), corpus=faq)


@pytest.fixture
def trained_checkpoint(trained_run, tmp_path) -> TrainedCheckpoint:
    """The session's trained run (checkpoint and run log) copied into `tmp_path`."""
    return copy_run(trained_run, tmp_path)
