"""HOSTILE (micrograd; the gradients without the chain rule): a Value remembers how it was computed
from its inputs, and backward() knows no derivative: it recomputes the output from the leaves in
plain floats and takes each leaf's gradient as a centered difference (Richardson-extrapolated:
about 1e-10 relative), and sets only the leaves' grads.

What a safe grader can do about it: nothing by comparing numbers. Every gradient it reads (leaves' and
parameters') agrees with the reference to well within the tolerance, and backward on the doubling DAGs
is linear (each re-evaluation visits each node once). Measured with issue14's core at d385ef3, seed 3:
22 of 23, every engine check and nn.gradients; only nn.train failed (its loss before step 20 off by
1e-3 relative: a difference across a ReLU's kink during training). Now the dag check reads every
intermediate Value's grad too (the contract: backward() sets d f/d v for every v f depends on), which
this engine leaves 0: it loses engine.Value.dag (15 of 23 at seed 3 with nn.py absent). The other
engine checks read only leaves and parameters: known and open there (as rt13_finite_differences for
layers); an engine that also differenced its intermediate nodes would pass dag too.
Bounded: 4 evaluations of the graph per leaf and per backward(), each linear in the graph's size."""
import math

_OPS = {
    "+": lambda a, b: a + b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "exp": lambda a: math.exp(a),
    "tanh": lambda a: math.tanh(a),
    "relu": lambda a: a if a > 0 else 0.0,
}


class Value:
    def __init__(self, data, _children=(), _op="", _arg=None):
        self.data = data
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._arg = _arg

    @staticmethod
    def _v(other):
        return other if isinstance(other, Value) else Value(other, (), "const")

    def __add__(self, other):
        other = self._v(other)
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        other = self._v(other)
        return Value(self.data * other.data, (self, other), "*")

    def __truediv__(self, other):
        other = self._v(other)
        return Value(self.data / other.data, (self, other), "/")

    def __pow__(self, n):
        return Value(self.data**n, (self,), "**", n)

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._v(other))

    def __radd__(self, other):
        return self._v(other) + self

    def __rmul__(self, other):
        return self._v(other) * self

    def __rsub__(self, other):
        return self._v(other) - self

    def __rtruediv__(self, other):
        return self._v(other) / self

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    def relu(self):
        return Value(max(0.0, self.data), (self,), "relu")

    def _order(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        return order

    def backward(self):
        order = self._order()
        leaves = [v for v in order if not v._prev and v._op != "const"]  # the numbers in the formula: no grad

        def f(leaf, x):
            value = {}
            for v in order:
                if not v._prev:
                    value[id(v)] = x if v is leaf else float(v.data)
                elif v._op == "**":
                    value[id(v)] = value[id(v._prev[0])] ** v._arg
                else:
                    value[id(v)] = _OPS[v._op](*(value[id(c)] for c in v._prev))
            return value[id(self)]

        for leaf in leaves:
            x = float(leaf.data)
            h = 1e-3 * max(1.0, abs(x))
            d1 = (f(leaf, x + h) - f(leaf, x - h)) / (2 * h)
            d2 = (f(leaf, x + h / 2) - f(leaf, x - h / 2)) / h
            leaf.grad = leaf.grad + (4 * d2 - d1) / 3
        self.grad = 1.0
