"""`chartui export`: a checkpoint's model as safetensors weights or an ONNX generation step."""

from __future__ import annotations

import argparse

from chartui.units import format_bytes


def cmd_export(args: argparse.Namespace) -> int:
    from chartui.interchange import export_model

    path = export_model(args.checkpoint, args.format, args.output)
    print(f"wrote {path} ({format_bytes(path.stat().st_size)}, {args.format})")
    return 0
