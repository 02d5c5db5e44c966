"""What a report records of what was graded: the submission's digest (the files as the grader reads them,
no link followed) and the assignment's digest. ``grade --resume`` keeps a report only when both are the same."""

import dataclasses
import os
import shutil

from gradcheck.assignment import assignment_digest, load_assignment
from gradcheck.assignment.loading import DEFAULT_PATH
from gradcheck.submission import submission_digest


def make(root, files):
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


FILES = {"gates.py": "class AddGate: ...\n", "graph.py": "g\n", "mlp.py": "m\n"}


def test_the_same_files_anywhere_have_the_same_digest_and_any_change_a_new_one(tmp_path):
    a = make(tmp_path / "alice", FILES)
    base = submission_digest(a)
    assert len(base) == 64 and base == submission_digest(make(tmp_path / "elsewhere" / "bob", FILES))
    changes = {
        "a byte of a module": lambda p: (p / "gates.py").write_text("class AddGate: ..\n"),
        "a file renamed": lambda p: (p / "mlp.py").rename(p / "mlp2.py"),
        "a file added": lambda p: (p / "notes.txt").write_text(""),
        "a folder added": lambda p: (p / "data").mkdir(),
        "a link added": lambda p: os.symlink("/etc/passwd", p / "secret.py"),
    }
    seen = {base}
    for what, change in changes.items():
        p = tmp_path / what.replace(" ", "-")
        shutil.copytree(a, p)
        change(p)
        digest = submission_digest(p)
        assert digest not in seen, what
        seen.add(digest)


def test_what_the_grader_does_not_read_does_not_count_and_links_are_not_followed(tmp_path):
    a = make(tmp_path / "alice", {**FILES, "data/big.txt": "1"})
    base = submission_digest(a)
    (a / "data" / "big.txt").write_text("2")  # a file in a subfolder: the sandbox copies top-level files only
    assert submission_digest(a) == base
    target1 = make(tmp_path / "t1", {"x": "one"})
    target2 = make(tmp_path / "t2", {"x": "two"})
    os.symlink(target1 / "x", a / "link.py")
    with_link = submission_digest(a)
    (a / "link.py").unlink()
    os.symlink(target2 / "x", a / "link.py")  # another target: never read, so the same digest
    assert submission_digest(a) == with_link
    os.symlink(a, tmp_path / "alias")
    assert submission_digest(tmp_path / "alias") != with_link  # the folder is a link: a digest all the same
    assert submission_digest(tmp_path / "missing") not in (with_link, base)


def test_an_inner_folder_is_what_counts_when_it_is_what_is_graded(tmp_path):
    a = make(tmp_path / "alice", {f"hw/{n}": t for n, t in FILES.items()})
    base = submission_digest(a)
    (a / "hw" / "graph.py").write_text("g2\n")
    assert submission_digest(a) != base


def test_the_assignment_digest_follows_its_loaded_content_not_its_path(tmp_path):
    a = load_assignment()
    copy = tmp_path / "course.toml"
    copy.write_text(DEFAULT_PATH.read_text() + "\n# a comment changes nothing\n")
    b = load_assignment(copy)
    assert assignment_digest(a) == assignment_digest(b) and len(assignment_digest(a)) == 64
    points = dataclasses.replace(a, checks=(dataclasses.replace(a.checks[0], points=9.0), *a.checks[1:]))
    limits = dataclasses.replace(a, limits={**a.limits, "call_seconds": 11})
    tolerances = dataclasses.replace(a, tolerances={**a.tolerances, "rtol": 1e-3})
    digests = {assignment_digest(x) for x in (a, points, limits, tolerances)}
    assert len(digests) == 4
