"""Layers as function pairs, CS231n style: ``NAME_forward(...) -> (out, cache)`` and
``NAME_backward(dout, cache)`` -> the gradient of each differentiable input, in input order (a bare
array for a one-input layer); the losses ``f(x, y) -> (loss, dx)``.

The model solution of the "layers" assignment (docs/layers-contract.md), written from the math. No
function modifies the arrays it is given; batchnorm_forward updates the running averages in its
``bn_param`` dict, as the API says. The last two functions are for the grader, not for students.
"""

import numpy as np


def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b, for x (N, d_1, ..., d_k), w (D, M), b (M,)."""
    return x.reshape(len(x), -1) @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Train mode: normalise each column of x (N, D) by the batch mean and (biased) variance, then
    scale by gamma and shift by beta; running = momentum * running + (1 - momentum) * batch statistic,
    stored in bn_param. Test mode: normalise by the running averages instead."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.zeros(x.shape[1]))
    if bn_param["mode"] == "test":
        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, None
    if bn_param["mode"] != "train":
        raise ValueError(f'bn_param["mode"] must be "train" or "test", not {bn_param["mode"]!r}')
    mean, var = x.mean(axis=0), x.var(axis=0)
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Train mode. With g = dout * gamma, the mean and variance depending on every row give
    dx = (g - mean(g) - xhat * mean(g * xhat)) / std, means over the batch."""
    xhat, gamma, inv_std = cache
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep each unit with probability p and scale it by 1/p in training, so that
    test mode is the identity. The mask is drawn from numpy's global generator, seeded first when
    dropout_param has a "seed": mask = (np.random.rand(*x.shape) < p) / p."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x.copy(), None
    if mode != "train":
        raise ValueError(f'dropout_param["mode"] must be "train" or "test", not {mode!r}')
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = (np.random.rand(*x.shape) < p) / p
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout.copy() if cache is None else dout * cache


def _taps(s, ho, wo, i, j):
    """The index of the positions that kernel tap (i, j) sees: rows i, i + s, ..., cols j, j + s, ..."""
    return np.s_[:, :, i : i + s * ho : s, j : j + s * wo : s]


def conv_forward_naive(x, w, b, conv_param):
    """Cross-correlation of x (N, C, H, W), zero-padded by pad on H and W, with w (F, C, HH, WW):
    out[n, f, h, v] = b[f] + sum_{c, i, j} xpad[n, c, h s + i, v s + j] w[f, c, i, j].
    Vectorised over everything but the kernel taps (i, j)."""
    s, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    f, _, hh, ww = w.shape
    ho, wo = 1 + (xp.shape[2] - hh) // s, 1 + (xp.shape[3] - ww) // s
    out = np.zeros((len(x), f, ho, wo)) + b[:, None, None]
    for i, j in np.ndindex(hh, ww):
        out += np.einsum("nchv,fc->nfhv", xp[_taps(s, ho, wo, i, j)], w[:, :, i, j])
    return out, (x.shape, xp, w, conv_param)


def conv_backward_naive(dout, cache):
    x_shape, xp, w, conv_param = cache
    s, pad = conv_param["stride"], conv_param["pad"]
    ho, wo = dout.shape[2:]
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    for i, j in np.ndindex(w.shape[2:]):
        taps = _taps(s, ho, wo, i, j)
        dw[:, :, i, j] = np.einsum("nfhv,nchv->fc", dout, xp[taps])
        dxp[taps] += np.einsum("nfhv,fc->nchv", dout, w[:, :, i, j])
    h, v = x_shape[2:]
    return dxp[:, :, pad : pad + h, pad : pad + v], dw, dout.sum(axis=(0, 2, 3))


def _pool_windows(x, pool_param):
    """x's pooling windows, (N, C, H', W', pool_height * pool_width)."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
    return windows.reshape(*windows.shape[:4], ph * pw)


def max_pool_forward_naive(x, pool_param):
    windows = _pool_windows(x, pool_param)
    return windows.max(axis=-1), (x.shape, windows.argmax(axis=-1), pool_param)


def max_pool_backward_naive(dout, cache):
    """Each window's upstream gradient goes to the window's largest element (gradients add where
    windows overlap)."""
    x_shape, argmax, pool_param = cache
    pw, s = pool_param["pool_width"], pool_param["stride"]
    n, c, h, v = np.indices(argmax.shape)
    dx = np.zeros(x_shape)
    np.add.at(dx, (n, c, h * s + argmax // pw, v * s + argmax % pw), dout)
    return dx


def softmax_loss(x, y):
    """Mean over the N rows of x (N, C) of -log softmax(x_i)[y_i]; shifted by the row max, so exp
    never overflows. dL/dx = (softmax(x) - onehot(y)) / N."""
    rows = np.arange(len(y))
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dx = np.exp(logp)
    dx[rows, y] -= 1.0
    return float(-logp[rows, y].mean()), dx / len(y)


def svm_loss(x, y):
    """Multiclass hinge loss: mean over rows of sum_{j != y_i} max(0, x_ij - x_iy_i + 1). Each active
    margin adds 1 to dx_ij and -1 to dx_iy_i (divided by N)."""
    rows = np.arange(len(y))
    margins = np.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    active = (margins > 0).astype(float)
    active[rows, y] = -active.sum(axis=1)
    return float(margins.sum() / len(y)), active / len(y)


# ----------------------------------------------------------------------------------------------------
# For the grader's input drawing, not part of the student contract: how far an input is from the
# points where a function is not differentiable (centered differences are unreliable that close).


def svm_loss_kink_distance(x, y):
    """The smallest |x_ij - x_iy_i + 1| over rows i and classes j != y_i (inf when there is none)."""
    rows = np.arange(len(y))
    gaps = np.abs(x - x[rows, y][:, None] + 1.0)
    gaps[rows, y] = np.inf
    return float(gaps.min(initial=np.inf))


def max_pool_tie_distance(x, pool_param):
    """The smallest gap between the largest and the second largest element of a pooling window, over
    all windows (inf for 1 x 1 windows, which have no ties)."""
    windows = np.sort(_pool_windows(x, pool_param), axis=-1)
    if windows.shape[-1] < 2:
        return float("inf")
    return float((windows[..., -1] - windows[..., -2]).min(initial=np.inf))


# ----------------------------------------------------------------------------------------------------
# For the grader's diagnoses, not part of the student contract: the gradients a classic bug gives,
# each ``f(dout, *inputs[, param]) -> gradients`` (the assignment's ``bugs``); a student's backward
# that returns them is told which bug it has.


def batchnorm_backward_without_mean_terms(dout, x, gamma, beta, bn_param):
    """dx as if the batch mean and variance were constants (dx = dout * gamma / std)."""
    std = np.sqrt(x.var(axis=0) + bn_param.get("eps", 1e-5))
    x_hat = (x - x.mean(axis=0)) / std
    return dout * gamma / std, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)


def dropout_backward_without_mask(dout, x, dropout_param):
    """The upstream gradient passed through as it is (dx = dout)."""
    return dout


def conv_backward_with_flipped_kernel(dout, x, w, b, conv_param):
    """dx computed with the kernel flipped in both spatial axes (a convolution where the layer is a
    cross-correlation); dw and db right."""
    dx = conv_backward_naive(dout, conv_forward_naive(x, w[:, :, ::-1, ::-1], b, conv_param)[1])[0]
    _, dw, db = conv_backward_naive(dout, conv_forward_naive(x, w, b, conv_param)[1])
    return dx, dw, db


def max_pool_backward_to_every_element(dout, x, pool_param):
    """Each window's upstream gradient sent to every element of the window, not only to its maximum."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x, dtype=float)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * s : i * s + ph, j * s : j * s + pw] += dout[:, :, i, j][:, :, None, None]
    return dx
