"""Which paths workers must not see by default, and how a path is tested against them.

``Sandbox`` hides these (the zygote covers them, and the workers' allowlist root leaves them out)
besides the paths its caller names in ``hide=``.
"""

import importlib.util
import os

#: The gradcheck package this module belongs to (found from here: nothing is imported to find it).
PACKAGE = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))


def default_hidden():
    """The gradcheck package, the reference, and the source checkout when running from one."""
    pkg = PACKAGE
    paths = [pkg]
    try:
        spec = importlib.util.find_spec("gradcheck.reference")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        for loc in spec.submodule_search_locations or [os.path.dirname(spec.origin or "")]:
            if loc:
                paths.append(os.path.realpath(loc))
    root = os.path.dirname(pkg)
    if os.path.isfile(os.path.join(root, "pyproject.toml")) and (
        os.path.isdir(os.path.join(root, ".git")) or os.path.isdir(os.path.join(root, "reference"))
    ):
        paths.append(root)
    return paths


def is_under(path, root):
    """``path`` is ``root`` or lies inside it (both real paths: no link is resolved here)."""
    return path == root or path.startswith(root.rstrip("/") + "/")
