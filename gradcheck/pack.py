"""``gradcheck pack --student ASSIGNMENT OUT``: what students install to check their work locally.

The student build is a source tree (``pip install OUT``) holding the tool and the assignment's
visible checks, with

- **no reference code**: ``gradcheck.reference`` is a set of stand-ins of the same names that replay
  the results the reference gave on the visible checks' fixed inputs (:mod:`gradcheck.replay`),
  recorded here by running the real grader on the reference solution (and on the example
  submissions next to it, when there are any, so that common mistakes get their diagnosis); a call
  that was not recorded makes the checks that needed it say they can only be checked by the course's
  grader, never that they failed;
- **no stand-in gates**: the correct gates that let the grader score a graph or MLP independently of
  the student's gates (computed from the reference on the grader's side) are left out (locally,
  graphs and MLPs run with the student's own gates);
- **no hidden or after-due-date check**: the assignment lists the visible checks only (comments
  dropped), and the grader's source is pruned of every withheld check id: the statements and
  literal entries naming one, then the functions and classes nothing calls any more.

``build_student`` verifies the result: no withheld check id and no line of the reference's code in
any file it wrote (``PackError`` otherwise).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
import shutil
import tempfile
from pathlib import Path

from . import __version__, batch, contract, replay
from .assignment import DEFAULT_PATH, KNOWN_CHECKS, load_assignment
from .errors import GradcheckError
from .report import is_shown

__all__ = ["PackError", "build_student"]
STANDIN_STUB = '''"""No stand-ins in a student build: the student's own units are used everywhere (see
gradcheck.pack), so graph, MLP and models run in the same worker as the units."""


class StandIns:
    def __init__(self, *args, **kwargs):
        self.all = []

    def units(self):
        return []

    def names(self):
        return []

    def request(self):
        return {"units": []}

    def handle(self, request, arrays):
        return {"error": "no stand-ins in a student build"}, []
'''
STUB_MODULE = '''"""Recorded results of the reference's {module} on the visible checks' fixed inputs: no code (see
gradcheck.replay). A call that was not recorded raises gradcheck.replay.NotRecorded."""
from ..replay import make_function as _function, make_proxy as _proxy
from ._answers import STORE as _STORE

{lines}
'''
ANSWERS_MODULE = '''"""The recorded results (answers.json), loaded once."""
from importlib import resources

from ..replay import load_answers

STORE = load_answers(resources.files(__package__).joinpath("answers.json").read_text(encoding="utf-8"))
'''
PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "gradcheck"
version = "{version}+student"
description = "gradcheck, student build: the visible checks of {assignment}, with recorded expected values"
requires-python = ">=3.11"
dependencies = ["numpy>=1.24", "click>=8.1", "jsonschema>=4.18", "hypothesis>=6.80", "matplotlib>=3.7", "tqdm>=4.60"]

[project.scripts]
gradcheck = "gradcheck.cli:main"

[project.entry-points.pytest11]
"gradcheck.pytest_plugin" = "gradcheck.pytest_plugin"

[tool.setuptools]
packages = [{packages}]

[tool.setuptools.package-data]
"gradcheck" = ["*.json", "assignments/*/*.toml"]
"gradcheck.assignment" = ["*.json"]
"gradcheck.formats" = ["schemas/*.json"]
"gradcheck.reference" = ["answers.json"]
"""
README = """# gradcheck (student build) - {assignment}

Check your work before you hand it in:

```sh
pip install .                     # from this folder
gradcheck check path/to/your/folder            # gates.py, graph.py, mlp.py
pytest --gradcheck-submission=path/to/your/folder   # the same checks as pytest tests
```

This build runs the assignment's **visible** checks only ({visible} checks, {points:g} points), with
the seed {seed}. Your course's grader also runs checks this build does not have. There is no model
solution in it: the expected values of the visible checks were recorded on their fixed inputs. When a
check needs a value that was not recorded (another seed, or inputs that depend on your own results),
it says it can only be checked by your course's grader: that is not a verdict on your code. Locally,
graphs and networks run with your own gates, so a wrong gate can also show in the graph and MLP checks.
"""


class PackError(GradcheckError, RuntimeError):
    """The student build could not be made, or failed its own verification."""


# --- recording ---------------------------------------------------------------------------------------


def _reference_modules() -> dict:
    """The reference's modules, one per contract module: {"gates": gradcheck.reference.gates, ...}."""
    return {m: importlib.import_module(f"gradcheck.reference.{m}") for m in contract.MODULES}


def _public(module):
    classes, functions = {}, []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            classes[name] = sorted(m for m, v in inspect.getmembers(obj) if callable(v) and not m.startswith("_"))
        elif inspect.isfunction(obj):
            functions.append(name)
    return classes, functions


def record(assignment, seed=0, submissions=(), grade_one=None):
    """Run the grader on the reference solution (and ``submissions``) for ``assignment``'s checks
    with recording stand-ins in place of the reference: (Recording, {module: (classes, functions)},
    {submission name: report})."""
    if grade_one is None:
        grade_one = batch.grade_one
    modules = _reference_modules()
    store = replay.Recording()
    store.recording = True
    api, saved = {}, []
    for m, module in modules.items():
        classes, functions = _public(module)
        api[m] = (classes, functions)
        for name, methods in classes.items():
            store.real[f"{m}:{name}"] = getattr(module, name)
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, replay.make_proxy(f"{m}:{name}", methods, store))
        for name in functions:
            store.real[f"{m}:{name}"] = getattr(module, name)
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, replay.make_function(f"{m}:{name}", store))
    reports = {}
    try:
        with tempfile.TemporaryDirectory(prefix="gradcheck-pack-") as tmp:
            ref = Path(tmp) / "reference-solution"
            ref.mkdir()
            for m, module in modules.items():
                shutil.copy(module.__file__, ref / f"{m}.py")
            for sub in (ref, *map(Path, submissions)):
                report, _, trace = grade_one(sub, assignment, seed)
                if report.get("status") != "graded":
                    raise PackError(
                        f"grading {sub.name} failed while recording: {report.get('message')}\n{trace or ''}"
                    )
                reports[sub.name] = report
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
        store.recording = False
    bad = [c["id"] for c in reports["reference-solution"]["checks"] if c["status"] != "pass"]
    if bad:
        raise PackError(f"the reference solution does not pass these checks: {', '.join(bad)}")
    return store, api, reports


# --- pruning withheld checks out of the grader's source ----------------------------------------------


def _mentions(node, ids) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and any(i in node.value for i in ids)


def _reads_like(node, ids) -> bool:
    return (
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and f"{node.value.id}.{node.attr}" in ids
    )


class _DropEntries(ast.NodeTransformer):
    """Entries of tuple/list/set/dict literals that name a withheld check; code that reads like one
    (``mlp.train(...)``, a student module's function) becomes ``getattr(mlp, 'train')(...)``."""

    def __init__(self, ids):
        self.ids = ids

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if (
            isinstance(node.value, ast.Name)
            and f"{node.value.id}.{node.attr}" in self.ids
            and isinstance(node.ctx, ast.Load)
        ):
            return ast.copy_location(
                ast.Call(ast.Name("getattr", ast.Load()), [node.value, ast.Constant(node.attr)], []), node
            )
        return node

    def _seq(self, node):
        self.generic_visit(node)
        node.elts = [e for e in node.elts if not _mentions(e, self.ids)]
        return node

    visit_Tuple = visit_List = visit_Set = _seq

    def visit_Dict(self, node):
        self.generic_visit(node)
        keep = [(k, v) for k, v in zip(node.keys, node.values) if not (k is not None and _mentions(k, self.ids))]
        node.keys, node.values = [k for k, _ in keep], [v for _, v in keep]
        return node


_BODIES = ("body", "orelse", "finalbody")


def _header_mentions(stmt, ids) -> bool:
    """Whether a statement, leaving out the statements nested in it, names a withheld check."""
    for field, value in ast.iter_fields(stmt):
        if field in _BODIES or field == "handlers":
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST) and any(_mentions(n, ids) for n in ast.walk(child)):
                return True
    return False


def _drop_statements(node, ids):
    for h in getattr(node, "handlers", []) or []:
        _drop_statements(h, ids)
    for field in _BODIES:
        stmts = getattr(node, field, None)
        if not isinstance(stmts, list):
            continue
        kept = []
        for s in stmts:
            if not isinstance(s, ast.stmt):
                kept.append(s)
                continue
            _drop_statements(s, ids)
            if not _header_mentions(s, ids):
                kept.append(s)
        if field == "body" and not kept and not isinstance(node, ast.Module):
            kept = [ast.Pass()]
        setattr(node, field, kept)


def _names_used(tree, skip=None) -> set:
    """Names a tree uses (loads, attributes, imports, identifier-like strings), leaving out the
    subtree ``skip`` (a definition does not keep itself alive)."""
    used, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if node is skip:
            continue
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.add(node.name.rsplit(".", 1)[-1])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            used.add(node.value)  # __all__ entries, getattr(module, "name")
        todo.extend(ast.iter_child_nodes(node))
    return used


def prune_package(root: Path, ids) -> list:
    """Rewrite the .py files under ``root`` that name a withheld check id; returns their paths."""
    ids = set(ids)
    if not ids:
        return []
    trees, changed, dropped = {}, [], []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(_mentions(n, ids) or _reads_like(n, ids) for n in ast.walk(tree)):
            if any(_mentions(n, ids) for n in ast.walk(tree)):
                dropped.append(path)
            tree = _DropEntries(ids).visit(tree)
            _drop_statements(tree, ids)
            changed.append(path)
        trees[path] = tree
    # then the functions and classes of the modules that lost statements that nothing uses any more
    while True:
        removed = False
        for path in dropped:
            tree = trees[path]
            for d in [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]:
                if any(d.name in _names_used(t, skip=d) for t in trees.values()):
                    continue
                tree.body.remove(d)
                removed = True
        if not removed:
            break
    for path in changed:
        path.write_text(ast.unparse(ast.fix_missing_locations(trees[path])) + "\n", encoding="utf-8")
    return changed


# --- the build ---------------------------------------------------------------------------------------


def _visible_toml(text: str, visible_ids, withheld_ids=()) -> str:
    """The assignment file with only the visible checks' [[checks]] blocks, without comments, and
    without the settings of withheld checks (a key naming one, e.g. ``train_steps`` for ``mlp.train``)."""
    parts = re.split(r"(?m)^(?=\[\[checks\]\]\s*$)", text)
    head, blocks = parts[0], parts[1:]
    kept = []
    for block in blocks:
        # a [[checks]] block runs until the next table header
        m = re.search(r"(?m)^\[(?!\[checks\]\])", block)
        body, rest = (block[: m.start()], block[m.start() :]) if m else (block, "")
        cid = re.search(r'(?m)^\s*id\s*=\s*"([^"]+)"', body)
        if cid and cid.group(1) in visible_ids:
            kept.append(body)
        kept.append(rest)
    out = head + "".join(kept)
    names = {cid.rsplit(".", 1)[-1] for cid in withheld_ids}
    lines, table = [], None
    for line in out.splitlines():
        line = _without_comment(line)
        header = re.match(r"\s*\[([^\[\]]+)\]\s*$", line)
        if header or line.strip().startswith("[["):
            table = header.group(1).strip() if header else None
        key = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        if table == "settings" and key and any(n in key.group(1) for n in names):
            continue
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _without_comment(line: str) -> str:
    """A TOML line without its comment (a # outside a "string")."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i].rstrip()
    return line


def _reference_lines(modules) -> list:
    """Runs of three consecutive code lines of the reference (to check that none was shipped)."""
    runs = []
    for module in modules.values():
        code = [
            ln.strip()
            for ln in Path(module.__file__).read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.strip().startswith("#")
        ]
        runs += ["\n".join(code[i : i + 3]) for i in range(len(code) - 2) if sum(len(x) for x in code[i : i + 3]) >= 60]
    return runs


def build_student(assignment_file, out_dir, *, seed=0, submissions=None, grade_one=None) -> dict:
    """Make the student build of ``assignment_file`` in ``out_dir`` (which must not exist or be
    empty). ``submissions``: extra submission folders to grade while recording (default: the example
    submissions next to the reference in a source checkout, if any). Returns a summary dict."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise PackError(f"{str(out)!r} is not empty")
    assignment = load_assignment(assignment_file)
    visible = tuple(c for c in assignment.checks if is_shown(c.visibility))
    withheld = sorted(c.id for c in assignment.checks if not is_shown(c.visibility))
    # every check id the grader knows and this build does not run: none may appear in it
    absent = sorted(set(withheld) | (set(KNOWN_CHECKS) - {c.id for c in visible}))
    if not visible:
        raise PackError("the assignment has no visible check: nothing to build")
    shown = dataclasses.replace(assignment, checks=visible)
    if submissions is None:
        examples = Path(importlib.import_module("gradcheck.reference").__file__).resolve().parent.parent / "submissions"
        submissions = sorted(p for p in examples.iterdir() if p.is_dir()) if examples.is_dir() else []
    store, api, reports = record(shown, seed, submissions, grade_one=grade_one)
    store.seed = int(seed)

    src = Path(__file__).resolve().parent
    pkg = out / "gradcheck"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "reference", "pack.py"))
    ref = pkg / "reference"
    if ref.exists():
        shutil.rmtree(ref)
    ref.mkdir()
    (ref / "__init__.py").write_text('"""The reference\'s recorded results (no code): see gradcheck.replay."""\n')
    (ref / "_answers.py").write_text(ANSWERS_MODULE)
    (ref / "answers.json").write_text(store.dumps(), encoding="utf-8")
    for m, (classes, functions) in api.items():
        lines = [f"{name} = _proxy({m + ':' + name!r}, {methods!r}, _STORE)" for name, methods in classes.items()]
        lines += [f"{name} = _function({m + ':' + name!r}, _STORE)" for name in functions]
        (ref / f"{m}.py").write_text(STUB_MODULE.format(module=m, lines="\n".join(lines)))
    (pkg / "standins.py").write_text(STANDIN_STUB)
    for bundled in (pkg / "assignments").iterdir():  # the build grades this assignment only
        if bundled.name != DEFAULT_PATH.parent.name:
            shutil.rmtree(bundled)
    (pkg / "assignments" / DEFAULT_PATH.parent.name / DEFAULT_PATH.name).write_text(
        _visible_toml(Path(assignment.path).read_text(encoding="utf-8"), {c.id for c in visible}, absent),
        encoding="utf-8",
    )
    pruned = prune_package(pkg, absent)
    packages = sorted(".".join(p.relative_to(out).parts[:-1]) for p in pkg.rglob("__init__.py"))
    (out / "pyproject.toml").write_text(
        PYPROJECT.format(
            version=__version__, assignment=assignment.name, packages=", ".join(json.dumps(p) for p in packages)
        )
    )
    (out / "README.md").write_text(
        README.format(
            assignment=assignment.title or assignment.name, visible=len(visible), points=shown.max_score, seed=seed
        )
    )
    _verify(out, absent, _reference_lines(_reference_modules()))
    return {
        "out": str(out),
        "visible": len(visible),
        "withheld": len(withheld),
        "recorded": len(store.answers),
        "pruned": [str(p.relative_to(out)) for p in pruned],
        "seed": seed,
        "graded": {name: r["score"] for name, r in reports.items()},
    }


def _verify(out: Path, ids, reference_lines) -> None:
    problems = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        for cid in ids:
            if cid in text:
                problems.append(f"{path.relative_to(out)} names the check {cid!r}")
        code = "\n".join(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#"))
        for run in reference_lines:
            if run in code:
                problems.append(f"{path.relative_to(out)} holds the reference's code {run!r}")
                break
    if problems:
        raise PackError("the student build reveals what it must not:\n  " + "\n  ".join(problems[:20]))
