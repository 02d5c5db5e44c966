"""The model solution of the "layers" assignment (CS231n-style layers and a two-layer network).

The two modules follow the student contract (``docs/layers-contract.md``) exactly, so this folder is
also a valid submission. They import nothing from each other, nor from gradcheck (numpy only).
"""

from . import fc_net, layers

__all__ = ["fc_net", "layers"]
