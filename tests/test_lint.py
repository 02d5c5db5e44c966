"""The code's lint and format, as CI checks them: ``ruff check`` and ``ruff format --check`` with the
configuration in pyproject.toml (the students' code kept as fixtures is excluded there)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUFF = [sys.executable, "-m", "ruff"] if shutil.which("ruff") is None else ["ruff"]

pytestmark = pytest.mark.system  # starts a process


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff(command):
    p = subprocess.run([*RUFF, *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
