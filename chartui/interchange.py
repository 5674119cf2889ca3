"""The model outside chartui: its weights as safetensors, one generation step as ONNX.

- safetensors: the model's tensors (float32, named as in `CharRNN.state_dict()`), with string
  metadata: `format` ("chartui-model"), `chartui_version`, `model_config` (JSON, the
  `ModelConfig`), `vocabulary` (the characters in id order, as one string), and where the
  checkpoint knows them `corpus` and `step`. The README shows the few lines that load it into
  a `CharRNN` without chartui's checkpoint code.
- ONNX: one generation step for a batch of streams, `ids (batch,) int64, h (layers, batch,
  hidden) [, c (layers, batch, hidden)] -> logits (batch, vocab), h_out [, c_out]`; `c` and
  `c_out` exist only for cells with a cell state (LSTM). The same metadata is in the model's
  `metadata_props`, so a runtime can map characters to ids and back.

Both need optional packages (`pip install 'chartui[export]'`); a missing one is named in one
sentence. Files are written atomically and never over an existing file.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

from chartui import __version__
from chartui.errors import ChartuiError
from chartui.files import not_a_folder, user_path, write_atomically

FORMATS = ("safetensors", "onnx")
SUFFIXES = {"safetensors": ".safetensors", "onnx": ".onnx"}
MODEL_FORMAT = "chartui-model"
EXTRA_HINT = "install it with: pip install 'chartui[export]'"


def default_output(checkpoint: Path, kind: str) -> Path:
    """The checkpoint file's name with the format's suffix, in the current folder."""
    return Path(checkpoint.stem + SUFFIXES[kind])


NEEDS = {"safetensors": ("safetensors.torch",), "onnx": ("onnx", "onnxscript")}


def _require(kind: str) -> None:
    """One sentence naming the first package `kind` needs that is not installed."""
    for module in NEEDS[kind]:
        try:
            __import__(module)
        except ImportError:
            raise ChartuiError(f"exporting to {kind} needs the package "
                               f"'{module.split('.')[0]}', which is not installed; "
                               f"{EXTRA_HINT}") from None


def _check_output(path: Path) -> None:
    """One sentence if `path` cannot become a new file: it exists, or its folder is no
    writable folder."""
    if path.exists() or path.is_symlink():
        raise ChartuiError(f"'{path}' already exists; choose another --output (nothing was "
                           "overwritten)")
    folder = path.parent
    blocked = not_a_folder(folder)
    if blocked:
        raise ChartuiError(f"cannot write '{path}': {blocked}; choose another --output")
    if not folder.exists():
        raise ChartuiError(f"cannot write '{path}': the folder '{folder}' does not exist; "
                           "create it or choose another --output")


def _write(path: Path, data: bytes) -> Path:
    try:
        return write_atomically(path, lambda f: f.write(data), replace=False)
    except FileExistsError:
        raise ChartuiError(f"'{path}' already exists; choose another --output (nothing was "
                           "overwritten)") from None
    except OSError as exc:
        raise ChartuiError(f"cannot write '{path}' ({exc.strerror or exc}); choose another "
                           "--output") from None


def model_metadata(model, vocab, payload: dict) -> dict[str, str]:
    """What a runtime needs besides the weights, as strings."""
    metadata = {"format": MODEL_FORMAT, "chartui_version": __version__,
                "model_config": json.dumps(model.config.to_dict()),
                "vocabulary": "".join(vocab.chars)}
    corpus = (payload.get("corpus") or {}).get("name")
    if corpus:
        metadata["corpus"] = str(corpus)
    if "step" in payload:
        metadata["step"] = str(int(payload["step"]))
    return metadata


def export_model(checkpoint: str | Path, kind: str, output: str | Path | None = None) -> Path:
    """Write `checkpoint`'s model as `kind` ("safetensors" or "onnx") to `output` (default:
    `default_output`); returns the path written. Every problem is one ChartuiError."""
    if kind not in FORMATS:
        raise ChartuiError(f"'{kind}' is not an export format; use one of: {', '.join(FORMATS)}")
    from chartui.checkpoint import load_model, resolve_checkpoint_path  # torch: only now
    checkpoint = resolve_checkpoint_path(checkpoint)  # a folder: its newest checkpoint
    path = user_path(output) if output is not None else default_output(checkpoint, kind)
    _check_output(path)
    writer = {"safetensors": _safetensors_bytes, "onnx": _onnx_bytes}[kind]
    _require(kind)
    model, vocab, payload = load_model(checkpoint)
    return _write(path, writer(model, model_metadata(model, vocab, payload)))


def _safetensors_bytes(model, metadata: dict[str, str]) -> bytes:
    from safetensors.torch import save
    tensors = {name: tensor.detach().float().contiguous()
               for name, tensor in model.state_dict().items()}
    return save(tensors, metadata=metadata)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The ONNX exporter reports its progress and its own deprecations; the user asked for a
    file, not for those."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _onnx_bytes(model, metadata: dict[str, str]) -> bytes:
    import onnx
    import torch

    with_cell_state = model.has_cell_state

    class GenerationStep(torch.nn.Module):
        """One character for each of a batch of streams, and the state after it."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids, h, c=None):
            if c is None:
                c = torch.zeros_like(h)
            logits, (h_out, c_out) = self.model(ids.unsqueeze(1), (h, c), engine="cell")
            return (logits[:, 0], h_out, c_out) if with_cell_state else (logits[:, 0], h_out)

    config = model.config
    # h and c as separate tensors: the exporter would take one tensor given twice for one input
    states = [torch.zeros(config.num_layers, 2, config.hidden_size)
              for _ in range(2 if with_cell_state else 1)]
    inputs = (torch.zeros(2, dtype=torch.long), *states)
    batch = torch.export.Dim("batch")
    names = ["ids", "h", "c"][:len(inputs)]
    shapes = {"ids": {0: batch}, "h": {1: batch}, "c": {1: batch}}
    with _quiet_exporter():
        program = torch.onnx.export(
            GenerationStep().eval(), inputs, input_names=names,
            output_names=["logits", "h_out", "c_out"][:len(inputs)],
            dynamic_shapes={name: shapes[name] for name in names}, verbose=False, dynamo=True)
    proto = program.model_proto
    onnx.helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()
