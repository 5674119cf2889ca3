"""`chartui export`: safetensors weights that load without chartui's checkpoint code, and an ONNX
generation step that onnxruntime runs to the same logits as chartui."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from chartui.cli import main
from chartui.errors import ChartuiError
from chartui.interchange import export_model

from helpers import REPO, tiny_config, train_checkpoint


def _readme_snippet(marker: str) -> str:
    """The README's Python block after `<!-- marker -->`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\s*```python\n(.*?)```", readme, re.S)
    assert found, f"the README lost its {marker}"
    return found.group(1)


def _run_snippet(marker: str) -> dict:
    scope: dict = {}
    exec(compile(_readme_snippet(marker), marker, "exec"), scope)  # our own README's code
    return scope


def test_safetensors_loads_with_the_readme_snippet(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", trained_run.path, "--format", "safetensors",
                 "--output", "model.safetensors"]) == 0
    snippet = _readme_snippet("safetensors snippet")
    assert "chartui.checkpoint" not in snippet and len(snippet.strip().splitlines()) <= 10
    scope = _run_snippet("safetensors snippet")
    model, chars = scope["model"], scope["chars"]
    assert chars == "".join(trained_run.vocab.chars)
    ids = torch.from_numpy(trained_run.vocab.encode("The chartui ")).unsqueeze(0)
    with torch.no_grad():
        expected, _ = trained_run.model.eval()(ids)
        got, _ = model.eval()(ids)
    assert torch.equal(got, expected)
    metadata = scope["meta"]
    assert metadata["format"] == "chartui-model" and json.loads(metadata["model_config"])


def _onnx_logits(path, ids: list[int], model) -> np.ndarray:
    """Feed `ids` one at a time through the exported step; the logits after each."""
    session = onnxruntime.InferenceSession(str(path))
    names = [i.name for i in session.get_inputs()]
    config = model.config
    state = {name: np.zeros((config.num_layers, 1, config.hidden_size), np.float32)
             for name in names if name != "ids"}
    logits = []
    for index in ids:
        outputs = session.run(None, {"ids": np.array([index], np.int64), **state})
        logits.append(outputs[0][0])
        state = dict(zip(names[1:], outputs[1:], strict=True))
    return np.stack(logits)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_onnx_step_matches_chartui_in_onnxruntime(cell, tmp_path):
    trained = train_checkpoint(tmp_path / "run", tiny_config(cell=cell, num_layers=2,
                                                               iterations=4, eval_every=4))
    path = export_model(trained.path, "onnx", tmp_path / "step.onnx")
    ids = trained.vocab.encode("The chartui FAQ. ")
    with torch.no_grad():
        expected, _ = trained.model.eval()(torch.from_numpy(ids).unsqueeze(0))
    got = _onnx_logits(path, ids, trained.model)
    np.testing.assert_allclose(got, expected[0].numpy(), atol=1e-4, rtol=1e-4)
    session = onnxruntime.InferenceSession(str(path))
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["vocabulary"] == "".join(trained.vocab.chars)
    assert json.loads(metadata["model_config"])["cell"] == cell
    inputs = [i.name for i in session.get_inputs()]
    assert inputs == (["ids", "h", "c"] if cell == "lstm" else ["ids", "h"])


def test_the_readme_onnxruntime_example_runs(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    export_model(trained_run.path, "onnx", "model.onnx")
    scope = _run_snippet("onnxruntime snippet")
    ids = trained_run.vocab.encode("The ")
    with torch.no_grad():
        expected, _ = trained_run.model.eval()(torch.from_numpy(ids).unsqueeze(0))
    np.testing.assert_allclose(scope["logits"][0], expected[0, -1].numpy(), atol=1e-4)


def test_onnx_step_takes_a_batch_of_streams(trained_run, tmp_path):
    path = export_model(trained_run.path, "onnx", tmp_path / "step.onnx")
    session = onnxruntime.InferenceSession(str(path))
    config = trained_run.model.config
    zeros = np.zeros((config.num_layers, 3, config.hidden_size), np.float32)
    logits, h, c = session.run(None, {"ids": np.array([1, 2, 3], np.int64), "h": zeros,
                                      "c": zeros})
    assert logits.shape == (3, config.vocab_size) and h.shape == zeros.shape


@pytest.mark.parametrize("kind", ["safetensors", "onnx"])
def test_an_existing_file_is_never_replaced(trained_run, tmp_path, capsys, kind):
    taken = tmp_path / f"taken.{kind}"
    taken.write_text("mine")
    assert main(["export", trained_run.path, "--format", kind, "--output", str(taken)]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and len(err.strip().splitlines()) == 1
    assert taken.read_text() == "mine"


def test_bad_requests_are_one_sentence(trained_run, tmp_path, capsys):
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        (["export", str(foreign), "--format", "onnx", "--output", str(tmp_path / "x.onnx")],
         "not a chartui checkpoint"),
        (["export", trained_run.path, "--format", "onnx", "--output", str(a_file / "x.onnx")],
         "not a folder"),
        (["export", trained_run.path, "--format", "onnx",
          "--output", str(tmp_path / "missing" / "x.onnx")], "does not exist"),
    ]
    for argv, words in cases:
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "foreign.pt"]


def test_an_unknown_format_is_a_usage_error(trained_run, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["export", trained_run.path, "--format", "tflite"])
    assert exit_status.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'tflite'" in err and len(err.strip().splitlines()) == 1


def test_a_folder_exports_its_newest_checkpoint_under_its_name(trained_run, tmp_path,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = Path(trained_run.path).parent
    assert main(["export", str(folder), "--format", "safetensors"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [Path(trained_run.path).stem + ".safetensors"]


def test_a_missing_extra_is_named(trained_run, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnxscript", None)  # as if not installed
    with pytest.raises(ChartuiError, match=r"pip install 'chartui\[export\]'"):
        export_model(trained_run.path, "onnx", tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
