"""HOSTILE (micrograd; resources: memory): the honest network, except that zero_grad() first asks for
1.5 GB in one piece, written (so really resident where nothing stops it), and holds it while it
zeroes.

A safe grader's memory limit (1 GB a worker) refuses it at once: zero_grad() raises MemoryError, and
the zero_grad check (nn.zero_grad) earns nothing; the other nn checks of the same networks keep the
honest code's points (zero_grad() is called last on each network, and the training loop sets the
grads itself). Bounded: 1.5 GB at most, released when zero_grad() returns or raises."""
from honest_nn import MLP, Layer, Module, Neuron  # noqa: F401

_honest_zero_grad = Module.zero_grad


def _zero_grad(self):
    held = b"\x01" * 1_500_000_000
    _honest_zero_grad(self)
    del held


Module.zero_grad = _zero_grad
