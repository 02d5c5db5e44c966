"""HOSTILE (layers; no backpropagation at all): every backward returns centered differences of the
student's own (correct) forward, dout-weighted, and the losses' dx are centered differences of their
own loss. The assignment is backpropagation; this submission contains none.

A safe grader would not award the backward and numerical checks. It does (40 of 40): the values are
the reference's within 1e-9, and nothing the grader observes (values, shapes, determinism) tells
them apart (as the lecture's rt_finite_differences). Known and open (xfail in
tests/test_layers_hostile.py). Bounded: the grader's inputs have at most a few hundred elements."""
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
# no backward anywhere: every gradient is centered differences of the student's own forward (the
# losses' dx too), dout-weighted. Bounded: the grader's inputs have at most a few hundred elements
import copy as _copy

_H = 1e-5


def _fd(fn, inputs, extra, dout, n):
    grads = []
    for i in range(n):
        g = np.zeros(inputs[i].shape)
        for j in np.ndindex(inputs[i].shape):
            p = [a.copy() for a in inputs]
            m = [a.copy() for a in inputs]
            p[i][j] += _H
            m[i][j] -= _H
            fp = np.asarray(fn(*p, *_copy.deepcopy(extra))[0])
            fm = np.asarray(fn(*m, *_copy.deepcopy(extra))[0])
            g[j] = np.sum(dout * (fp - fm)) / (2 * _H)
        grads.append(g)
    return grads


def _pair(honest, n):
    def fwd(*args):
        inputs = [np.array(a, dtype=float) for a in args[:n]]
        extra = _copy.deepcopy(list(args[n:]))
        out, _ = honest(*args)
        return out, (inputs, extra)

    def bwd(dout, cache):
        inputs, extra = cache
        g = _fd(honest, inputs, extra, dout, n)
        return g[0] if n == 1 else tuple(g)

    return fwd, bwd


def _loss(honest):
    def f(x, y):
        loss, _ = honest(x, y)
        dx = _fd(lambda x_, y_: (honest(x_, y_)[0],), [np.array(x, dtype=float), y], [], 1.0, 1)[0]
        return loss, dx

    return f


affine_forward, affine_backward = _pair(affine_forward, 3)
relu_forward, relu_backward = _pair(relu_forward, 1)
batchnorm_forward, batchnorm_backward = _pair(batchnorm_forward, 3)
dropout_forward, dropout_backward = _pair(dropout_forward, 1)
conv_forward_naive, conv_backward_naive = _pair(conv_forward_naive, 3)
max_pool_forward_naive, max_pool_backward_naive = _pair(max_pool_forward_naive, 1)
softmax_loss = _loss(softmax_loss)
svm_loss = _loss(svm_loss)
