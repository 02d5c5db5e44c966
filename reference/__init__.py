"""The model solution of the backprop assignment: ground truth for gradcheck.

The three modules follow the student contract (``docs/contract.md``) exactly, so this folder is
also a valid submission. They import nothing from one another, which lets them be loaded both as
``gradcheck.reference.gates`` and as plain ``gates`` inside a submission folder.
"""

from . import gates, graph, mlp

__all__ = ["gates", "graph", "mlp"]
