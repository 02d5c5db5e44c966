"""HOSTILE (stand-ins; the channel asked in the session that grades the layers): each layer function
finds the worker's stand-in channel (the ``_Remote`` object, by ``gc``) and sends it a request of its
own for the unit being graded, ``{"_standin": {"unit": "layers.affine", ...}}``, returning whatever
values come back; when nothing usable comes back it raises. In the session where the student's own
layers are graded the grader installs no stand-in and must answer no such request: the layers must
earn nothing. (In the session that grades TwoLayerNet these layers fail, so the grader's stand-ins
replace them: the correct fc_net.py there keeps its points.) Bounded: one request per call, each
answered or refused within the call's time limit."""

import gc

import numpy as np


def _remote():
    for obj in gc.get_objects():
        if type(obj).__name__ == "_Remote" and callable(getattr(obj, "send_and_wait", None)):
            return obj
    return None


def _ask(unit, step, ident, arrays, **extra):
    remote = _remote()
    if remote is None:
        raise RuntimeError("no channel")
    request = {"id": ident, "unit": unit, "step": step, "values": len(arrays), **extra}
    header, out = remote.send_and_wait({"_standin": request}, [np.asarray(a, dtype=float) for a in arrays])
    if "error" in header or not out:
        raise RuntimeError(f"refused: {header.get('error')}"[:100])
    return out


_N = [1000]


def _pair(unit, n_inputs, param=False):
    def forward(*args):
        _N[0] += 1
        inputs = list(args[:n_inputs])
        extra = {"param": dict(args[n_inputs]), "param_arrays": []} if param else {}
        out = _ask(unit, "f", _N[0], inputs, **extra)
        return out[0], _N[0]

    def backward(dout, cache):
        grads = _ask(unit, "b", cache, [dout])
        return grads[0] if len(grads) == 1 else tuple(grads)

    return forward, backward


affine_forward, affine_backward = _pair("layers.affine", 3)
relu_forward, relu_backward = _pair("layers.relu", 1)
batchnorm_forward, batchnorm_backward = _pair("layers.batchnorm", 3, param=True)
dropout_forward, dropout_backward = _pair("layers.dropout", 1, param=True)
conv_forward_naive, conv_backward_naive = _pair("layers.conv", 3, param=True)
max_pool_forward_naive, max_pool_backward_naive = _pair("layers.max_pool", 1, param=True)


def softmax_loss(x, y):
    _N[0] += 1
    loss, dx = _ask("layers.softmax_loss", "f", _N[0], [x, y])
    return float(loss), dx


def svm_loss(x, y):
    _N[0] += 1
    loss, dx = _ask("layers.svm_loss", "f", _N[0], [x, y])
    return float(loss), dx
