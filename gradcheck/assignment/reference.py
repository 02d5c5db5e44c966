"""The model solution of an assignment, as the grader imports it: ``reference_module(assignment, name)``.

The reference is the instructor's code (trusted): it runs in the grader process and gives ground
truth. A bundled assignment's is an installed package (``reference = {package = ...}``); an
instructor's folder's is loaded from its files under a private module name, one per folder, so two
assignments' ``layers.py`` never meet in ``sys.modules``. A reference module may import the modules
listed before it by their plain names, as a submission's do (micrograd's ``nn.py``: ``from engine
import Value``): while it loads, those names stand for the same folder's modules, and only then.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from ..errors import AssignmentError

__all__ = ["reference_module"]


def reference_module(assignment, name: str):
    """The reference module ``name`` of ``assignment`` (its ``reference_package`` or ``reference_dir``)."""
    package = getattr(assignment, "reference_package", None)
    folder = getattr(assignment, "reference_dir", None)
    if package or folder is None:
        return importlib.import_module(f"{package or 'gradcheck.reference'}.{name}")
    modules = tuple(getattr(assignment, "modules", ()))
    earlier = modules[: modules.index(name)] if name in modules else ()
    return _from_folder(str(folder), name, str(getattr(assignment, "path", folder)), earlier)


@functools.cache
def _from_folder(folder: str, name: str, shown: str, earlier: tuple = ()):
    path = Path(folder) / f"{name}.py"
    if not path.is_file():
        raise AssignmentError(shown, [("reference", f"expected {name}.py in the model solution's folder {folder}")])
    private = f"_gradcheck_reference_{hashlib.sha256(folder.encode()).hexdigest()[:12]}_{name}"
    spec = importlib.util.spec_from_file_location(private, path)
    module = importlib.util.module_from_spec(spec)
    siblings = {m: _from_folder(folder, m, shown, earlier[:k]) for k, m in enumerate(earlier)}
    sys.modules[private] = module
    saved = {m: sys.modules.get(m) for m in siblings}
    sys.modules.update(siblings)  # ``from engine import Value`` finds the folder's engine.py, while this loads
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(private, None)
        raise AssignmentError(
            shown, [("reference", f"{path} could not be imported: {type(exc).__name__}: {exc}")]
        ) from exc
    finally:
        for m, was in saved.items():
            if was is None:
                sys.modules.pop(m, None)
            else:
                sys.modules[m] = was
    return module
