"""The shape of chartui's code: lines per module, methods per class, import cycles.

Prints JSON. Run from the repository root (optionally on another tree):

    python benchmarks/code_shape.py [--root DIR]

Imports inside functions count as edges too: a cycle hidden behind a deferred import is still a
cycle for the next reader.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The chartui modules that `name` imports anywhere in its body."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    root = args.root.resolve()
    files = sorted((root / "chartui").rglob("*.py"))
    trees = {module_name(path, root): (path, ast.parse(path.read_text())) for path in files}
    known = set(trees)
    graph = {
        name: imported_modules(tree, name, path.name == "__init__.py", known)
        for name, (path, tree) in trees.items()
    }
    lines = {name: len(path.read_text().splitlines()) for name, (path, _) in trees.items()}
    methods = {}
    for name, (_, tree) in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                count = sum(
                    isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) for item in node.body
                )
                methods[f"{name}.{node.name}"] = count
    largest = sorted(lines.items(), key=lambda item: -item[1])
    busiest = sorted(methods.items(), key=lambda item: -item[1])
    report = {
        "command": "python benchmarks/code_shape.py",
        "modules": len(lines),
        "lines_total": sum(lines.values()),
        "largest_modules": dict(largest[:8]),
        "modules_over_450_lines": [name for name, count in largest if count > 450],
        "most_methods": dict(busiest[:6]),
        "import_cycles": cycles(graph),
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
