"""Test-suite settings: Hypothesis draws the same examples on every run (no flaky CI) and keeps no
example database in the checkout. The grader's own Hypothesis runs set their seed explicitly.
The ``system`` marker names the tests that start real processes (tests/README.md). ``graded_class``: the
bundled submissions (and a hostile folder) graded once, for the tests of what a run leaves behind."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

settings.register_profile("gradcheck-tests", derandomize=True, database=None)
settings.load_profile("gradcheck-tests")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "system: starts real processes (the sandbox's fork server and workers, grader processes, "
        "gradcheck or pytest in a subprocess); deselect with -m 'not system'",
    )


# --- one graded class, shared by the tests of what a grade run leaves (resume, diff, the class report) -----

#: A folder name and an exception message (student text) that must render inert wherever they are shown.
HOSTILE_FOLDER = "<script>alert(1)<script>\" onmouseover='alert(2)' javascript:alert(3)"
HOSTILE_RAISE = (
    "\n\nclass MultiplyGate(MultiplyGate):\n"
    "    def forward(self, x, y):\n"
    "        raise ValueError('</textarea></pre><script>alert(4)</script>"
    '<a href="javascript:alert(5)">click</a> \\"double\\"\')\n'
)


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The bundled submissions and one hostile folder (named like markup, its MultiplyGate.forward raising
    a message full of markup), graded once by ``gradcheck grade`` in a subprocess: {"subs", "out", "run"}.
    Tests copy what they change."""
    root = tmp_path_factory.mktemp("graded-class")
    subs = root / "subs"
    shutil.copytree(REPO / "submissions", subs)
    hostile = subs / HOSTILE_FOLDER
    shutil.copytree(REPO / "submissions" / "correct", hostile)
    with open(hostile / "gates.py", "a") as f:
        f.write(HOSTILE_RAISE)
    out = root / "out"
    run = subprocess.run(
        [sys.executable, "-m", "gradcheck", "grade", str(subs), "--out", str(out), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return {"subs": subs, "out": out, "run": run}
