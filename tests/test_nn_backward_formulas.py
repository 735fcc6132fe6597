"""Layer backward passes against the closed forms of seed 003 (``003_46b4f35227c027e8.txt``).

S3-Q1.4: batch-norm backward,
    dL/dX_i = gamma / (n sigma) * (n dY_i - sum_j dY_j - Xhat_i sum_j dY_j Xhat_j),
    sigma = sqrt(var + eps) (biased variance), Xhat_i = (X_i - mu) / sigma.
S3-Q1.5: valid-convolution backward,
    dL/dX_c = sum_f W_fc *full dY_f     (full convolution),
    dL/dW_fc = X_c *filt dY_f          (valid cross-correlation, "filtering").
"""
from __future__ import annotations

import math
import random

from helpers import assert_all_close

from microgradnet import Value, functional as F
from microgradnet.nn import BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Linear, ReLU


def upstream(outputs, rng):
    """loss = sum_i c_i y_i, so dL/dy_i = c_i: a chosen upstream gradient dY."""
    cs = [rng.uniform(-1, 1) for _ in outputs]
    return F.sum([c * y for c, y in zip(cs, outputs)]), cs


def test_s3q14_batchnorm_backward_equals_the_closed_form():
    rng = random.Random(0)
    n, gamma = 7, 1.7
    bn = BatchNorm1d(1, eps=1e-5)
    bn.weight[0].data, bn.bias[0].data = gamma, -0.3
    xs = [Value(rng.uniform(-2, 3)) for _ in range(n)]
    ys = [row[0] for row in bn([[x] for x in xs])]
    loss, dY = upstream(ys, rng)
    loss.backward()
    X = [x.data for x in xs]
    mu = sum(X) / n
    sigma = math.sqrt(sum((x - mu) ** 2 for x in X) / n + 1e-5)
    xhat = [(x - mu) / sigma for x in X]
    s1 = sum(dY)
    s2 = sum(d * h for d, h in zip(dY, xhat))
    closed = [gamma / (n * sigma) * (n * dY[i] - s1 - xhat[i] * s2) for i in range(n)]
    assert_all_close([x.grad for x in xs], closed, rtol=1e-10, atol=1e-13)
    # and the parameters: dL/dgamma = sum dY xhat, dL/dbeta = sum dY
    assert_all_close([bn.weight[0].grad, bn.bias[0].grad], [s2, s1], rtol=1e-12)


def test_s3q14_closed_form_holds_per_channel_of_batchnorm2d():
    rng = random.Random(1)
    bn = BatchNorm2d(2)
    bn.weight[1].data = 0.6
    X = [[[[rng.uniform(-1, 2) for _ in range(3)] for _ in range(2)] for _ in range(2)]
         for _ in range(3)]
    xv = [[[[Value(v) for v in r] for r in p] for p in s] for s in X]
    out = bn(xv)
    flat_out = [out[s][c][i][j] for s in range(3) for c in range(2) for i in range(2)
                for j in range(3)]
    loss, cs = upstream(flat_out, rng)
    loss.backward()
    c = 1
    idx = [(s, i, j) for s in range(3) for i in range(2) for j in range(3)]
    dY = [cs[((s * 2 + c) * 2 + i) * 3 + j] for s, i, j in idx]
    vals = [X[s][c][i][j] for s, i, j in idx]
    n = len(vals)
    mu = sum(vals) / n
    sigma = math.sqrt(sum((v - mu) ** 2 for v in vals) / n + 1e-5)
    xhat = [(v - mu) / sigma for v in vals]
    s1, s2 = sum(dY), sum(d * h for d, h in zip(dY, xhat))
    closed = [0.6 / (n * sigma) * (n * dY[k] - s1 - xhat[k] * s2) for k in range(n)]
    assert_all_close([xv[s][c][i][j].grad for s, i, j in idx], closed, rtol=1e-10, atol=1e-13)


def full_convolution(a, k):
    """(a *full k)[i][j] = sum_{m,n} a[i-m][j-n] k[m][n], over every overlap: the output is
    (Ha + kh - 1) x (Wa + kw - 1)."""
    Ha, Wa, kh, kw = len(a), len(a[0]), len(k), len(k[0])
    return [[sum(a[i - m][j - n] * k[m][n] for m in range(kh) for n in range(kw)
                 if 0 <= i - m < Ha and 0 <= j - n < Wa)
             for j in range(Wa + kw - 1)] for i in range(Ha + kh - 1)]


def filtering(x, d):
    """(x *filt d)[i][j] = sum_{m,n} x[i+m][j+n] d[m][n]: valid cross-correlation."""
    Hx, Wx, Hd, Wd = len(x), len(x[0]), len(d), len(d[0])
    return [[sum(x[i + m][j + n] * d[m][n] for m in range(Hd) for n in range(Wd))
             for j in range(Wx - Wd + 1)] for i in range(Hx - Hd + 1)]


def test_s3q15_conv_backward_is_full_convolution_and_filtering():
    rng = random.Random(2)
    cin, cout, H, W, kh, kw = 2, 3, 5, 6, 3, 2          # non-square: catches a transpose
    Wt = [[[[rng.uniform(-1, 1) for _ in range(kw)] for _ in range(kh)] for _ in range(cin)]
          for _ in range(cout)]
    X = [[[rng.uniform(-1, 1) for _ in range(W)] for _ in range(H)] for _ in range(cin)]
    conv = Conv2d.from_weights(Wt, [0.1, -0.2, 0.3])
    xv = [[[Value(v) for v in r] for r in p] for p in X]
    Y = conv(xv)
    Ho, Wo = len(Y[0]), len(Y[0][0])
    flat_y = [Y[f][i][j] for f in range(cout) for i in range(Ho) for j in range(Wo)]
    loss, cs = upstream(flat_y, rng)
    loss.backward()
    dY = [[[cs[(f * Ho + i) * Wo + j] for j in range(Wo)] for i in range(Ho)]
          for f in range(cout)]
    for c in range(cin):
        expected = [[0.0] * W for _ in range(H)]
        for f in range(cout):
            full = full_convolution(dY[f], Wt[f][c])
            expected = [[e + v for e, v in zip(er, fr)] for er, fr in zip(expected, full)]
        assert_all_close([[v.grad for v in r] for r in xv[c]], expected, rtol=1e-12,
                         atol=1e-14, what=f"dX[{c}]")
    for f in range(cout):
        for c in range(cin):
            assert_all_close([[w.grad for w in r] for r in conv.weight[f][c]],
                             filtering(X[c], dY[f]), rtol=1e-12, atol=1e-14,
                             what=f"dW[{f}][{c}]")
        assert_all_close(conv.bias[f].grad, sum(map(sum, dY[f])), rtol=1e-12)


def test_s3q11_to_q13_dense_relu_dropout_backward():
    """S3-Q1.1-Q1.3 in the row-vector convention Y = X W + b (X: 1 x nin, W: nin x nout):
    dW = X^T dY, db = dY, dX = dY W^T (the seed writes W dY for the column convention);
    ReLU: dX = dY * [X > 0]; dropout: dX = dY * M."""
    rng = random.Random(3)
    nin, nout = 3, 2
    Wk = [[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)]   # our layout
    lin = Linear.from_weights(Wk, [0.0, 0.0])
    X = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
    Y = lin(X)
    loss, dY = upstream(Y, rng)
    loss.backward()
    assert_all_close([[w.grad for w in row] for row in lin.weight],
                     [[dY[k] * X[j].data for j in range(nin)] for k in range(nout)], rtol=1e-12)
    assert_all_close([b.grad for b in lin.bias], dY, rtol=1e-12)
    assert_all_close([x.grad for x in X],
                     [sum(Wk[k][j] * dY[k] for k in range(nout)) for j in range(nin)],
                     rtol=1e-12)
    Z = [Value(v) for v in (0.5, -0.2, 1.5, -3.0)]
    loss, dY = upstream(ReLU()(Z), rng)
    loss.backward()
    assert [z.grad for z in Z] == [d * (1.0 if z.data > 0 else 0.0) for d, z in zip(dY, Z)]
    Z = [Value(v) for v in (0.5, -0.2, 1.5, -3.0, 2.0, 0.1)]
    drop = Dropout(0.5, rng=4)
    loss, dY = upstream(drop(Z), rng)
    loss.backward()
    assert [z.grad for z in Z] == [d * m for d, m in zip(dY, drop.mask)]
