"""What runs inside the sandbox (gradcheck/sandbox/inside/: the fork server and the workers) imports only
the standard library, numpy and its own siblings: never the grader, the reference or anything else
installed next to them. Read from the source (AST), so an import in a function body counts too."""

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

INSIDE = Path(__file__).resolve().parent.parent / "gradcheck" / "sandbox" / "inside"
FILES = sorted(INSIDE.glob("*.py"))
SIBLINGS = {p.stem for p in FILES} - {"__init__"}
ALLOWED_TOP = set(sys.stdlib_module_names) | {"numpy"} | SIBLINGS


def _guarded(node, parents):
    """True when ``node`` sits in the body of a ``try`` whose handlers catch ImportError."""
    for p in parents.get(node, ()):
        if isinstance(p, ast.Try):
            for h in p.handlers:
                names = [h.type] if not isinstance(h.type, ast.Tuple) else list(h.type.elts)
                if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                    return True
    return False


def imports_of(path):
    """(module name, line, guarded) of every import in ``path``: statements, __import__ and
    importlib.import_module with a literal name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parents = {}

    def walk(node, chain):
        parents[node] = chain
        for child in ast.iter_child_nodes(node):
            walk(child, chain + (node,))

    walk(tree, ())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, _guarded(node, parents)) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # the inside modules are top-level modules in the worker: no package around them
                out += [("." * node.level + (node.module or ""), node.lineno, False)]
            else:
                out.append((node.module, node.lineno, _guarded(node, parents)))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                out.append((node.args[0].value, node.lineno, _guarded(node, parents)))
    return out


def test_the_inside_folder_has_its_modules():
    assert {"zygote", "worker", "ops", "protocol", "isolation"} <= SIBLINGS


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_inside_imports_only_stdlib_numpy_and_siblings(path):
    bad = []
    for name, line, guarded in imports_of(path):
        top = name.split(".")[0]
        if top in ALLOWED_TOP:
            continue
        # an optional sibling that is gone (``try: import x / except ImportError``) imports nothing
        if guarded and top and importlib.util.find_spec(top) is None:
            continue
        bad.append(f"{path.name}:{line}: import {name}")
    assert not bad, "the inside of the sandbox may import only the stdlib, numpy and its siblings:\n" + "\n".join(bad)


def test_the_checker_catches_a_forbidden_import(tmp_path):
    p = tmp_path / "x.py"
    p.write_text(
        "import os\nimport numpy.linalg\ndef f():\n    from gradcheck import grading\n"
        "    import importlib\n    importlib.import_module('gradcheck.reference')\nfrom . import y\n"
    )
    names = sorted(n for n, _, _ in imports_of(p))
    assert names == sorted(["os", "numpy.linalg", "gradcheck", "importlib", "gradcheck.reference", "."])
