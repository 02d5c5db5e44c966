"""The hostile corpus: tests/hostile/<case>/ holds only the modules a case plants something in (and
its helpers); ``materialize`` copies a case and completes it with the reference's other modules, so
each fixture shows just its hostile part. A case whose gates.py starts from honest gates imports them
from ``honest_gates``: a copy of the reference's gates.py, placed in the folder as the student's own
file (what a student who wrote correct gates and then tampered with them would hand in)."""
import shutil
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent / "hostile"
REFERENCE = Path(__file__).resolve().parent.parent / "reference"
MODULES = ("gates.py", "graph.py", "mlp.py")


def materialize(case, dst):
    """A complete submission folder at ``dst``: the case's files plus the reference's missing modules."""
    dst = Path(dst)
    shutil.copytree(HOSTILE / case, dst, ignore=shutil.ignore_patterns("__pycache__"))
    for module in MODULES:
        if not (dst / module).exists():
            shutil.copy(REFERENCE / module, dst / module)
    if any("honest_gates" in p.read_text() for p in dst.glob("*.py")):
        shutil.copy(REFERENCE / "gates.py", dst / "honest_gates.py")
    return dst
