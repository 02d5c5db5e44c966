import numpy as np


class Cache:
    """A small bag of named values (like a SimpleNamespace) for the backward passes."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, {"x": x, "w": w, "b": b}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), Cache(mask=x > 0)


def relu_backward(dout, cache):
    return dout * cache.mask


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    if "running_mean" not in bn_param:
        bn_param["running_mean"] = np.zeros(D)
    if "running_var" not in bn_param:
        bn_param["running_var"] = np.zeros(D)

    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        z = (x - mean) / std
        out = gamma * z + beta
        # update the running averages in place, in the arrays the dict holds
        bn_param["running_mean"] *= momentum
        bn_param["running_mean"] += (1 - momentum) * mean
        bn_param["running_var"] *= momentum
        bn_param["running_var"] += (1 - momentum) * var
        cache = {"z": z, "gamma": gamma, "std": std, "mode": mode}
    elif mode == "test":
        z = (x - bn_param["running_mean"]) / np.sqrt(bn_param["running_var"] + eps)
        out = gamma * z + beta
        cache = {"mode": mode}
    else:
        raise ValueError(mode)
    return out, cache


def batchnorm_backward(dout, cache):
    z, gamma, std = cache["z"], cache["gamma"], cache["std"]
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * z).sum(axis=0)
    dz = dout * gamma
    dx = (N * dz - dz.sum(axis=0) - z * (dz * z).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "train":
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = (np.random.rand(*x.shape) < p) / p
        return x * mask, Cache(mode=mode, mask=mask)
    return x.copy(), Cache(mode=mode, mask=None)


def dropout_backward(dout, cache):
    if cache.mode == "train":
        return dout * cache.mask
    return dout.copy()


def conv_forward_naive(x, w, b, conv_param):
    s, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // s
    Wo = 1 + (W + 2 * pad - WW) // s
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, {"xp": xp, "w": w, "pad": pad, "stride": s, "shape": x.shape}


def conv_backward_naive(dout, cache):
    xp, w, s, pad = cache["xp"], cache["w"], cache["stride"], cache["pad"]
    N, C, H, W = cache["shape"]
    F, _, HH, WW = w.shape
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            patch = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
            dw += np.tensordot(dout[:, :, i, j], patch, axes=([0], [0]))
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.empty((N, C, Ho, Wo))
    where = {}
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
            k = win.argmax(axis=2)
            out[:, :, i, j] = win.max(axis=2)
            where[i, j] = (i * s + k // pw, j * s + k % pw)
    return out, {"shape": x.shape, "where": where}


def max_pool_backward_naive(dout, cache):
    N, C, H, W = cache["shape"]
    dx = np.zeros((N, C, H, W))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for (i, j), (rows, cols) in cache["where"].items():
        np.add.at(dx, (n, c, rows, cols), dout[:, :, i, j])
    return dx


def svm_loss(x, y):
    N = len(y)
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, None] + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return loss, dx / N


def softmax_loss(x, y):
    N = len(y)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    dx = probs
    dx[np.arange(N), y] -= 1
    return loss, dx / N
