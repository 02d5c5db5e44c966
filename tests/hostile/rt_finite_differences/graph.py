"""HOSTILE (see gates.py of this case): a ComputationalGraph (the student's honest_graph builds it)
whose backward never calls a gate's backward. It re-runs the whole graph's forward on perturbed
inputs and returns centered differences, dout-weighted. A safe grader must not award graph.*
gradient checks to it."""
import numpy as np

import honest_graph

H = 1e-5


class ComputationalGraph(honest_graph.ComputationalGraph):
    """The student's own input() and gate(); forward and backward below."""

    def _run(self, values):
        vals = []
        for kind, what, inputs in self.nodes:
            if kind == "input":
                vals.append(np.asarray(values[what], dtype=float))
            else:
                vals.append(np.asarray(what.forward(*(vals[i] for i in inputs)), dtype=float))
        return vals[-1]

    def forward(self, values):
        self.feed = {k: np.array(v, dtype=float) for k, v in values.items()}
        self.out = self._run(self.feed)
        return self.out

    def backward(self, dout=None):
        dout = np.ones_like(self.out) if dout is None else np.asarray(dout, dtype=float)
        grads = {}
        for name, x in self.feed.items():
            g = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                h = H * max(1.0, abs(float(x[j])))
                plus = {k: v.copy() for k, v in self.feed.items()}
                minus = {k: v.copy() for k, v in self.feed.items()}
                plus[name][j] += h
                minus[name][j] -= h
                g[j] = np.sum(dout * (self._run(plus) - self._run(minus))) / (2 * h)
            grads[name] = g
        self._run(self.feed)   # leave the gates as after the latest forward
        return grads
