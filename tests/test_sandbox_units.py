"""The sandbox's parts that need no fork server, in-process: the private copy of a submission
(staging), the paths hidden by default, the output collector, the load request's module names."""

import os
import sys

import pytest

import gradcheck
from gradcheck import contract
from gradcheck.sandbox import Limits
from gradcheck.sandbox.hiding import PACKAGE, default_hidden, is_under
from gradcheck.sandbox.inside import ops
from gradcheck.sandbox.messages import MSG_LINK, WHY_LINK, WHY_TOO_MANY_FILES
from gradcheck.sandbox.results import Output, OutputCollector
from gradcheck.sandbox.staging import stage


def test_is_under():
    assert is_under("/a/b", "/a") and is_under("/a", "/a") and is_under("/a/b/c", "/a/")
    assert not is_under("/ab", "/a") and not is_under("/a", "/a/b")


def test_the_package_is_hidden_by_default_and_found_without_importing_it():
    assert PACKAGE == os.path.realpath(os.path.dirname(gradcheck.__file__))
    assert default_hidden()[0] == PACKAGE


def test_stage_takes_the_contract_modules_first_and_names_what_it_skips(tmp_path):
    src, dst = tmp_path / "alice", tmp_path / "copy"
    src.mkdir()
    dst.mkdir()
    for name in ("a_notes.txt", *contract.MODULE_FILES):
        (src / name).write_text(name)
    (src / "link.py").symlink_to(src / "gates.py")
    n = len(contract.MODULE_FILES)
    staged = stage(src, dst, Limits(submission_files=n))
    assert staged["files"] == list(contract.MODULE_FILES)
    assert sorted(os.listdir(dst)) == sorted(contract.MODULE_FILES)
    assert staged["skipped"] == [
        {"name": "link.py", "why": WHY_LINK, "link": True},
        {"name": "a_notes.txt", "why": WHY_TOO_MANY_FILES.format(limit=n)},
    ]
    assert staged["bytes"] == sum(len(name) for name in contract.MODULE_FILES)


def test_stage_refuses_a_link_as_the_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "bob").symlink_to(tmp_path / "real")
    with pytest.raises(FileNotFoundError, match=MSG_LINK.format(name="bob")):
        stage(tmp_path / "bob", tmp_path, Limits())


def test_output_collector_keeps_the_first_bytes_and_counts_all():
    out = OutputCollector(10)
    try:
        os.write(out.write_fd, b"0123456789abcdef\n")
        assert out.snapshot() == Output("0123456789", 17, True)
    finally:
        out.close()


@pytest.mark.parametrize("names", [None, [], ["a.b"], ["gates", "gates"], [1], "gates", [f"m{i}" for i in range(9)]])
def test_load_refuses_module_names_that_are_not_a_few_identifiers(names):
    header = {"op": "load"} if names is None else {"op": "load", "modules": names}
    reply, arrays = ops.dispatch(ops.State(), header, [])
    assert "modules" not in reply and reply["where"] == "load" and "'modules' must be" in reply["error"]


def test_load_imports_the_modules_it_is_given(tmp_path, monkeypatch):
    (tmp_path / "unit_first.py").write_text("X = 1\n")
    (tmp_path / "unit_second.py").write_text("import unit_first\nY = unit_first.X + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ops, "MODULES", ops.MODULES)  # restored afterwards
    state = ops.State()
    try:
        reply, _ = ops.dispatch(state, {"op": "load", "modules": ["unit_first", "unit_second"]}, [])
    finally:
        for name in ("unit_first", "unit_second"):
            sys.modules.pop(name, None)
    assert reply == {
        "modules": {
            "unit_first": {"ok": True, "names": ["X"]},
            "unit_second": {"ok": True, "names": ["Y", "unit_first"]},
        }
    }
    assert ops.MODULES == ("unit_first", "unit_second") and state.modules["unit_second"].Y == 2


def test_load_lists_a_modules_own_functions_whatever_it_star_imports(tmp_path, monkeypatch):
    """``from numpy import *`` brings 500 public names; a student's ``relu_forward`` and ``svm_loss`` sort
    after the first 200 of them, and were left out of the load reply (the grader said "layers.py has no
    function relu_forward" to a correct submission: 20 of 40 points lost)."""
    (tmp_path / "unit_star.py").write_text(
        "from numpy import *\nfrom math import *\n\n\ndef relu_forward(x):\n    return x, x\n\n\n"
        "def svm_loss(x, y):\n    return 0.0, x\n\n\nclass Zeta:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ops, "MODULES", ops.MODULES)
    try:
        reply, _ = ops.dispatch(ops.State(), {"op": "load", "modules": ["unit_star"]}, [])
    finally:
        sys.modules.pop("unit_star", None)
    names = reply["modules"]["unit_star"]["names"]
    assert names[:3] == ["Zeta", "relu_forward", "svm_loss"]  # its own first
    assert {"zeros", "sqrt", "pi"} <= set(names) and len(names) <= ops.MAX_NAMES
