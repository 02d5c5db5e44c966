"""The hostile corpus: tests/hostile/<case>/ holds only the modules a case plants something in (and
its helpers); ``materialize`` copies a case and completes it with the reference's other modules, so
each fixture shows just its hostile part. A case that starts from honest code imports it from
``honest_gates``, ``honest_graph`` or ``honest_mlp``: a copy of the reference's gates.py, graph.py or
mlp.py, placed in the folder as the student's own file (what a student who wrote correct code and
then tampered with it would hand in), and subclasses or overrides only what it changes."""

import shutil
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent / "hostile"
REFERENCE = Path(__file__).resolve().parent.parent / "reference"
MODULES = ("gates.py", "graph.py", "mlp.py")
HONEST = {"honest_gates": "gates.py", "honest_graph": "graph.py", "honest_mlp": "mlp.py"}


#: the layers assignment's (``model_*`` cases): its reference's modules, and ``honest_fc_net``
LAYERS = {
    "reference": Path(__file__).resolve().parent.parent / "gradcheck" / "assignments" / "layers" / "reference",
    "modules": ("layers.py", "fc_net.py"),
    "honest": {"honest_fc_net": "fc_net.py"},
}


def materialize(case, dst, reference=REFERENCE, modules=MODULES, honest=None):
    """A complete submission folder at ``dst``: the case's files plus the reference's missing modules,
    and the honest modules (``HONEST``) its files mention. ``materialize(case, dst, **LAYERS)``: a
    case of the layers assignment."""
    dst = Path(dst)
    honest = HONEST if honest is None else honest
    shutil.copytree(HOSTILE / case, dst, ignore=shutil.ignore_patterns("__pycache__"))
    texts = [p.read_text() for p in dst.glob("*.py")]
    for module in modules:
        if not (dst / module).exists():
            shutil.copy(reference / module, dst / module)
    for name, module in honest.items():
        if any(name in text for text in texts):
            shutil.copy(reference / module, dst / f"{name}.py")
    return dst
