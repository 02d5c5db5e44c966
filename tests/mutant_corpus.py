"""Single-bug mutants of the reference, made by text replacement (tests/test_mutants.py,
tests/test_no_mutation.py): ``mutant`` writes one, ``grade_mutants`` grades a set of them as a class
with the real grader."""

import json
import shutil
from pathlib import Path

from gradcheck.assignment import load_assignment
from gradcheck.batch import grade_class

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


def mutant(dst, module, edits):
    """The reference at ``dst`` with ``edits`` applied in order: each (old, new) in ``module``, or
    (file, old, new); each ``old`` must occur exactly once in the file as it is by then."""
    dst = Path(dst)
    shutil.copytree(REFERENCE, dst, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    for edit in edits:
        file, old, new = edit if len(edit) == 3 else (module, *edit)
        text = (dst / file).read_text()
        assert text.count(old) == 1, (dst.name, old)
        (dst / file).write_text(text.replace(old, new))
    return dst


def grade_mutants(base, mutants, seed):
    """Grade ``mutants`` (name -> (module, edits, ...)) as one class in ``base``; their reports by name."""
    base = Path(base)
    for name, (module, edits, *_) in mutants.items():
        mutant(base / "class" / name, module, edits)
    grade_class(base / "class", base / "out", load_assignment(), seed=seed, jobs=2)
    return {name: json.loads((base / "out" / f"{name}.json").read_text()) for name in mutants}
