"""What `pip install .` gives a user who has no source checkout: the package with the reference
under gradcheck.reference (never a top-level `reference` module), its data files, and the
`gradcheck` command."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "gradcheck"  # a copy: building writes build/ into the tree
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "reports", "__pycache__", ".hypothesis"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("gradcheck-*.whl")
    return path


def test_wheel_holds_the_reference_under_gradcheck_and_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "gradcheck/reference/gates.py",
        "gradcheck/reference/graph.py",
        "gradcheck/reference/mlp.py",
        "gradcheck/assignments/lecture/assignment.toml",
        "gradcheck/assignments/layers/assignment.toml",
        "gradcheck/assignments/layers/reference/layers.py",
        "gradcheck/assignment/assignment.schema.json",
        "gradcheck/report.schema.json",
        "gradcheck/sandbox/inside/zygote.py",
        "gradcheck/formats/schemas/gradescope-results.schema.json",
    ):
        assert needed in names, needed
    assert not any(n.startswith("reference/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "gradcheck = gradcheck.cli:main" in text and "pytest11" in text


def test_installed_package_grades_without_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import gradcheck, gradcheck.reference.gates as g, importlib.util;"
        f"assert gradcheck.__file__.startswith({str(target)!r}), gradcheck.__file__;"
        "assert importlib.util.find_spec('reference') is None;"
        "from gradcheck.assignment import load_assignment; print(len(load_assignment().checks))"
    )
    p = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "81"
    assert (target / "bin" / "gradcheck").exists()
