"""A scalar autograd engine: a ``Value`` holds one float ``data`` and its gradient ``grad``. Every
operation on Values makes a new Value that remembers its inputs and how to send its gradient back to
them (one step of the chain rule); ``backward()`` orders the graph topologically and runs those steps
from the output back to the leaves, adding into each input's ``grad``.

The model solution of the "micrograd" assignment (docs/micrograd-contract.md), written from the math.
Operators accept a Value or an int/float on either side (``2 * x``, ``1 / x``); ``**`` takes an
int/float exponent. Only the standard library.
"""

import math


class Value:
    """A float in a computation graph; ``grad`` is d(output)/d(this Value) after ``output.backward()``."""

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)  # the inputs of the operation that made this Value
        self._op = _op
        self._backward = lambda: None  # adds self.grad times the local derivatives into the inputs' grads

    # -- operations: the value, and the local derivatives it sends back -------------------------------

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(a b)/da = b, d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():  # d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2 = -(a / b) / b
            self.grad += out.grad / other.data
            other.grad -= out.data / other.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, n):
        if not isinstance(n, (int, float)):
            raise TypeError(f"the exponent must be an int or a float, not {type(n).__name__}")
        out = Value(math.pow(self.data, n), (self,), f"**{n}")

        def _backward():  # d(x^n)/dx = n x^(n - 1)
            self.grad += n * math.pow(self.data, n - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):  # -x, exactly (multiplying by -1 only flips the sign)
        return self * -1.0

    def __sub__(self, other):  # a - b = a + (-b), exactly
        return self + (-other)

    def __radd__(self, other):  # other + self, other a number
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def __rtruediv__(self, other):
        return Value(other) / self

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():  # d(e^x)/dx = e^x
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")  # math.tanh: no overflow for large |x|

        def _backward():  # d tanh(x)/dx = 1 - tanh(x)^2, from the output
            self.grad += (1.0 - out.data * out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():  # 1 for x > 0, else 0 (0 at the kink)
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # -- backpropagation --------------------------------------------------------------------------------

    def backward(self):
        """Set this Value's grad to 1 and add d(self)/dv into ``v.grad`` for every Value v it depends on.

        A depth-first search with an explicit stack (no recursion, so chains of any depth work) puts
        every Value after all of its inputs, each once (the visited set: without it a Value reached by
        several paths is listed, and its step run, once per path); the steps then run in reverse.
        """
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            v, inputs_done = stack.pop()
            if inputs_done:
                order.append(v)
            elif v not in visited:
                visited.add(v)
                stack.append((v, True))  # listed once every input pushed above it is listed
                stack.extend((child, False) for child in v._prev)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __repr__(self):
        return f"Value(data={self.data!r}, grad={self.grad!r})"
