"""HOSTILE (layers; answers lying around): hands in no layer of its own. It looks for the instructor's
model solution wherever the worker can import or read Python: sys.modules, every folder on sys.path
(the Python installation, where an instructor's reference installed as a package would sit next to
numpy), by a name only the reference has (max_pool_tie_distance, a grader-only helper), and uses it
when found; otherwise every function returns nothing useful.

A safe grader must not award anything. Before the fix it earned 40 of 40 with an assignment whose
reference = { package = ... } was installed in the grader's Python (the reference's folder is now
hidden from workers wherever it is: batch.assignment_paths). Bounded: a 5 s walk, reads of 300 kB."""
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        xhat = (x - mu) / std
        out = gamma * xhat + beta
        cache = (xhat, gamma, std)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            d = dout[:, :, i, j]
            dw += np.tensordot(d, win, axes=([0], [0]))
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    a, b2 = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * s + a, j * s + b2] += dout[n, c, i, j]
    return dx


def softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(N), y].mean()
    dx = np.exp(logp)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    pos = (margins > 0).astype(float)
    pos[np.arange(N), y] = -pos.sum(axis=1)
    return loss, pos / N


# ---- the hostile part ----
# hands in no layer of its own: looks for the instructor's model solution wherever the worker can
# import or read Python (sys.modules, every folder on sys.path, packages installed next to numpy) by a
# name only the reference has (max_pool_tie_distance, the grader's helper), and uses it when found
import importlib.util as _ilu
import os as _os
import sys as _sys
import time as _time

_FOUND = None


def _search():
    t0 = _time.monotonic()
    for m in list(_sys.modules.values()):
        if callable(getattr(m, "max_pool_tie_distance", None)):
            return m
    for root in list(_sys.path):
        if not isinstance(root, str) or not _os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in _os.walk(root):
            if _time.monotonic() - t0 > 5:
                return None
            dirnames[:] = [d for d in dirnames if not d.endswith((".dist-info", "__pycache__"))][:200]
            for name in filenames:
                if not name.endswith(".py"):
                    continue
                path = _os.path.join(dirpath, name)
                try:
                    with open(path, "rb") as f:
                        if b"def max_pool_tie_distance" not in f.read(300_000):
                            continue
                    spec = _ilu.spec_from_file_location("_borrowed_solution", path)
                    mod = _ilu.module_from_spec(spec)
                    spec.loader.exec_module(mod)
                    return mod
                except Exception:
                    continue
    return None


_FOUND = _search()
if _FOUND is not None:
    globals().update({k: v for k, v in vars(_FOUND).items() if not k.startswith("_")})
else:  # nothing found: nothing of its own either

    def _nothing(*args):
        return np.zeros(1), None

    for _n in [n for n in list(globals()) if n.endswith(("_forward", "_backward", "_naive", "_loss"))]:
        globals()[_n] = _nothing
