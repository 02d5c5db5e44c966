"""HOSTILE (micrograd; replacing the worker's machinery): the honest engine's forward with no
backward pass (backward() only sets the output's grad to 1). At import it finds the worker's own
module in sys.modules (the one that runs scalar networks: a function _scalar_nn_item) and wraps that
function: after the worker's training loop has run, it rewrites the losses in the reply, the true
first loss then 0.3 times the one before at every step. It also replaces the worker's
_scalar_number (how a Value's data and grad are read) by one that turns NaN into 0.

A safe grader must award no engine check and neither nn.gradients, nn.zero_grad nor nn.train (the
parameters never moved). nn.py is the honest one: nn.parameters and nn.forward are honest work. It
earned nn.train while that check compared only the first loss with the reference's (issue14 before
2e92217). Bounded: it patches once, at import; no loop of its own."""
import math
import sys

from honest_engine import Value


def _no_backward(self):
    self.grad = 1.0


Value.backward = _no_backward


def _patch(module):
    original = module._scalar_nn_item

    def item(net, key, item_, arrays, reply):
        result = original(net, key, item_, arrays, reply)
        if key == "train" and isinstance(result, dict) and "$a" in result.get("losses", {}):
            losses = reply.arrays[result["losses"]["$a"]]
            for k in range(1, losses.size):
                losses[k] = losses[0] * 0.3**k
        return result

    module._scalar_nn_item = item
    number = module._scalar_number

    def lenient(x):
        value = number(x)
        return 0.0 if math.isnan(value) else value

    module._scalar_number = lenient


for _module in list(sys.modules.values()):
    try:
        if callable(getattr(_module, "_scalar_nn_item", None)) and callable(getattr(_module, "_scalar_number", None)):
            _patch(_module)
    except Exception:
        continue
