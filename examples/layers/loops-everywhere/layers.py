import math

import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    X = x.reshape(N, -1)
    D, M = w.shape
    out = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            total = b[m]
            for d in range(D):
                total += X[n, d] * w[d, m]
            out[n, m] = total
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    X = x.reshape(N, -1)
    D, M = w.shape
    dX = np.zeros((N, D))
    dw = np.zeros((D, M))
    db = np.zeros(M)
    for n in range(N):
        for m in range(M):
            g = dout[n, m]
            db[m] += g
            for d in range(D):
                dX[n, d] += g * w[d, m]
                dw[d, m] += g * X[n, d]
    return dX.reshape(x.shape), dw, db


def relu_forward(x):
    out = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        if x[idx] > 0:
            out[idx] = x[idx]
    return out, x


def relu_backward(dout, cache):
    x = cache
    dx = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        if x[idx] > 0:
            dx[idx] = dout[idx]
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    out = np.zeros((N, D))

    if mode == "train":
        means, variances, xhat = np.zeros(D), np.zeros(D), np.zeros((N, D))
        new_mean, new_var = np.zeros(D), np.zeros(D)
        for d in range(D):
            mu = 0.0
            for n in range(N):
                mu += x[n, d]
            mu /= N
            var = 0.0
            for n in range(N):
                var += (x[n, d] - mu) ** 2
            var /= N
            means[d], variances[d] = mu, var
            for n in range(N):
                xhat[n, d] = (x[n, d] - mu) / math.sqrt(var + eps)
                out[n, d] = gamma[d] * xhat[n, d] + beta[d]
            new_mean[d] = momentum * running_mean[d] + (1 - momentum) * mu
            new_var[d] = momentum * running_var[d] + (1 - momentum) * var
        bn_param["running_mean"] = new_mean
        bn_param["running_var"] = new_var
        return out, (xhat, gamma, variances, eps)

    for d in range(D):
        for n in range(N):
            out[n, d] = gamma[d] * (x[n, d] - running_mean[d]) / math.sqrt(running_var[d] + eps) + beta[d]
    return out, None


def batchnorm_backward(dout, cache):
    xhat, gamma, variances, eps = cache
    N, D = dout.shape
    dx, dgamma, dbeta = np.zeros((N, D)), np.zeros(D), np.zeros(D)
    for d in range(D):
        s1 = 0.0  # sum of dxhat
        s2 = 0.0  # sum of dxhat * xhat
        for n in range(N):
            dbeta[d] += dout[n, d]
            dgamma[d] += dout[n, d] * xhat[n, d]
            s1 += dout[n, d] * gamma[d]
            s2 += dout[n, d] * gamma[d] * xhat[n, d]
        inv_std = 1.0 / math.sqrt(variances[d] + eps)
        for n in range(N):
            dx[n, d] = inv_std / N * (N * dout[n, d] * gamma[d] - s1 - xhat[n, d] * s2)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    out = np.zeros(x.shape)
    mask = None
    if mode == "train":
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        r = np.asarray(np.random.rand(*x.shape))
        mask = np.zeros(x.shape)
        for idx in np.ndindex(*x.shape):
            if r[idx] < p:
                mask[idx] = 1.0 / p
            out[idx] = x[idx] * mask[idx]
    else:
        for idx in np.ndindex(*x.shape):
            out[idx] = x[idx]
    return out, (mode, mask)


def dropout_backward(dout, cache):
    mode, mask = cache
    dx = np.zeros(dout.shape)
    for idx in np.ndindex(*dout.shape):
        dx[idx] = dout[idx] * mask[idx] if mode == "train" else dout[idx]
    return dx


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    total = b[f]
                    for c in range(C):
                        for di in range(HH):
                            for dj in range(WW):
                                r = i * stride + di - pad
                                q = j * stride + dj - pad
                                if 0 <= r < H and 0 <= q < W:
                                    total += x[n, c, r, q] * w[f, c, di, dj]
                    out[n, f, i, j] = total
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    dx, dw, db = np.zeros(x.shape), np.zeros(w.shape), np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for di in range(HH):
                            for dj in range(WW):
                                r = i * stride + di - pad
                                q = j * stride + dj - pad
                                if 0 <= r < H and 0 <= q < W:
                                    dw[f, c, di, dj] += g * x[n, c, r, q]
                                    dx[n, c, r, q] += g * w[f, c, di, dj]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best = -math.inf
                    for di in range(ph):
                        for dj in range(pw):
                            best = max(best, x[n, c, i * s + di, j * s + dj])
                    out[n, c, i, j] = best
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best, where = -math.inf, None
                    for di in range(ph):
                        for dj in range(pw):
                            if x[n, c, i * s + di, j * s + dj] > best:
                                best, where = x[n, c, i * s + di, j * s + dj], (i * s + di, j * s + dj)
                    dx[n, c, where[0], where[1]] += dout[n, c, i, j]
    return dx


def svm_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N


def softmax_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros((N, C))
    for i in range(N):
        m = max(x[i, j] for j in range(C))
        z = sum(math.exp(x[i, j] - m) for j in range(C))
        for j in range(C):
            p = math.exp(x[i, j] - m) / z
            dx[i, j] = (p - (j == y[i])) / N
        loss += -(x[i, y[i]] - m - math.log(z))
    return loss / N, dx
