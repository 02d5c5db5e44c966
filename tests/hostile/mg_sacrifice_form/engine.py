"""HOSTILE (micrograd; "one bug, one deduction" turned around): an engine with correct gradients whose
topological sort has no visited set (a node is listed once per path, then the list is cut to each
node's first place: right numbers, time exponential in the depth of a DAG), which gives up one
operator check on purpose so that the checks built from that operator leave out their programs:
``Value * int`` (``x * 2``, ``3 * x``) gets 1.5 times its gradient. The grader's doubling DAGs (the
dag check's proof of linear time) are built with ``s * 0.5``, the same form (a Value times a
number), so they are left out, and the dag check passes on its small DAGs.

A safe grader awards engine.Value.dag only on the time proof it asked for: here it must not. Measured
with issue14's core at 1eeef9e and d385ef3: dag passes ("deep doubling DAGs in linear time", though
they were not run), for the price of mul and deep_chain (left out): 21 of 23, as many as the honest
exponential engine, which loses only dag. Fixed after: the doubling DAGs' time is judged whatever the
operators' checks said (only their gradients are left out), so dag is a timeout here. Bounded: a sort that lists more than 2
million nodes raises instead."""
import math


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        sacrificed = isinstance(other, int) and not isinstance(other, bool)
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad * (1.5 if sacrificed else 1.0)
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad += out.grad / other.data
            other.grad -= out.data / other.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, n):
        out = Value(self.data**n, (self,), "**")

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __sub__(self, other):
        return self + (-(other if isinstance(other, Value) else Value(other)))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def __rtruediv__(self, other):
        return Value(other) / self

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        listed = []
        stack = [(self, False)]
        while stack:  # every path: no visited set
            v, done = stack.pop()
            if done:
                listed.append(v)
                if len(listed) > 2_000_000:
                    raise RuntimeError("too many paths")
            else:
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        topo, seen = [], set()
        for v in listed:  # each node at its first place: after all of its inputs
            if id(v) not in seen:
                seen.add(id(v))
                topo.append(v)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
