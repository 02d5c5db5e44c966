"""HOSTILE (missing_module): mlp.py imports a dependency that does not exist; the rest is the student's
honest MLP. A safe grader reports the ImportError for the MLP's checks only and grades the gates and
the graph. Bounded: the import fails at once."""
import torch_is_not_installed_here  # noqa: F401  # HOSTILE: a dependency that does not exist

from honest_mlp import *  # noqa: F401,F403
