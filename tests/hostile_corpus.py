"""The hostile corpus: tests/hostile/<case>/ holds only the modules a case plants something in (and
its helpers); ``materialize`` copies a case and completes it with the reference's other modules, so
each fixture shows just its hostile part."""
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
    return dst
