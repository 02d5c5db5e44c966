import numpy as np

# Everything is computed in single precision (faster, and good enough for training);
# results are handed back as float64.
f32 = np.float32


def _out(a):
    return np.asarray(a, dtype=np.float64)


def affine_forward(x, w, b):
    x32, w32, b32 = x.astype(f32), w.astype(f32), b.astype(f32)
    out = x32.reshape(x.shape[0], -1) @ w32 + b32
    cache = (x32, w32)
    return _out(out), cache


def affine_backward(dout, cache):
    x32, w32 = cache
    d = dout.astype(f32)
    dx = (d @ w32.T).reshape(x32.shape)
    dw = x32.reshape(x32.shape[0], -1).T @ d
    db = d.sum(axis=0)
    return _out(dx), _out(dw), _out(db)


def relu_forward(x):
    x32 = x.astype(f32)
    return _out(np.maximum(x32, f32(0))), x32


def relu_backward(dout, cache):
    return _out(dout.astype(f32) * (cache > 0))


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = f32(bn_param.get("eps", 1e-5))
    momentum = f32(bn_param.get("momentum", 0.9))
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D)).astype(f32)
    running_var = bn_param.get("running_var", np.zeros(D)).astype(f32)
    x32, g32, b32 = x.astype(f32), gamma.astype(f32), beta.astype(f32)

    cache = None
    if mode == "train":
        mu = x32.mean(axis=0)
        var = x32.var(axis=0)
        istd = 1 / np.sqrt(var + eps)
        xhat = (x32 - mu) * istd
        out = g32 * xhat + b32
        cache = (xhat, g32, istd)
        bn_param["running_mean"] = _out(momentum * running_mean + (1 - momentum) * mu)
        bn_param["running_var"] = _out(momentum * running_var + (1 - momentum) * var)
    elif mode == "test":
        out = g32 * (x32 - running_mean) / np.sqrt(running_var + eps) + b32
    else:
        raise ValueError("bad mode " + str(mode))
    return _out(out), cache


def batchnorm_backward(dout, cache):
    xhat, g32, istd = cache
    d = dout.astype(f32)
    N = d.shape[0]
    dxhat = d * g32
    dx = istd / N * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return _out(dx), _out((d * xhat).sum(axis=0)), _out(d.sum(axis=0))


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "train":
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = ((np.random.rand(*x.shape) < p) / p).astype(f32)
        return _out(x.astype(f32) * mask), mask
    return _out(x), None


def dropout_backward(dout, cache):
    mask = cache
    if mask is None:
        return _out(dout)
    return _out(dout.astype(f32) * mask)


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x.astype(f32), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    w32, b32 = w.astype(f32), b.astype(f32)
    out = np.zeros((N, F, Ho, Wo), dtype=f32)
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = patch.reshape(N, -1) @ w32.reshape(F, -1).T + b32
    return _out(out), (xp, w32, x.shape, conv_param)


def conv_backward_naive(dout, cache):
    xp, w32, x_shape, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x_shape
    F, _, HH, WW = w32.shape
    d = dout.astype(f32)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w32)
    for i in range(d.shape[2]):
        for j in range(d.shape[3]):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += (d[:, :, i, j].T @ patch.reshape(N, -1)).reshape(w32.shape)
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                (d[:, :, i, j] @ w32.reshape(F, -1)).reshape(N, C, HH, WW)
    db = d.sum(axis=(0, 2, 3))
    return _out(dxp[:, :, pad:pad + H, pad:pad + W]), _out(dw), _out(db)


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    x32 = x.astype(f32)
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo), dtype=f32)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x32[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return _out(out), (x32, pool_param)


def max_pool_backward_naive(dout, cache):
    x32, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x32.shape
    d = dout.astype(f32)
    dx = np.zeros_like(x32)
    for i in range(d.shape[2]):
        for j in range(d.shape[3]):
            win = x32[:, :, i * s:i * s + ph, j * s:j * s + pw]
            is_max = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += is_max * d[:, :, i, j][:, :, None, None]
    return _out(dx)


def svm_loss(x, y):
    x32 = x.astype(f32)
    N = x32.shape[0]
    rows = np.arange(N)
    margins = np.maximum(f32(0), x32 - x32[rows, y][:, None] + f32(1))
    margins[rows, y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(f32)
    dx[rows, y] = -dx.sum(axis=1)
    return float(loss), _out(dx / N)


def softmax_loss(x, y):
    x32 = x.astype(f32)
    N = x32.shape[0]
    rows = np.arange(N)
    z = x32 - x32.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[rows, y].sum() / N
    dx = np.exp(logp)
    dx[rows, y] -= 1
    return float(loss), _out(dx / N)
