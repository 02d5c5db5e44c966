"""Scalar autograd engine.

Instead of storing a closure in every node, each node only records which operation made it
(`op`) and its inputs (`parents`); backward() looks the op up in a table of local-gradient rules.
"""
import math


def _grad_add(node):
    a, b = node.parents
    a.grad += node.grad
    b.grad += node.grad


def _grad_mul(node):
    a, b = node.parents
    a.grad += b.data * node.grad
    b.grad += a.data * node.grad


def _grad_div(node):
    a, b = node.parents
    a.grad += node.grad / b.data
    b.grad += -a.data / (b.data * b.data) * node.grad


def _grad_pow(node):
    (a,) = node.parents
    n = node.arg
    a.grad += n * a.data ** (n - 1) * node.grad


def _grad_exp(node):
    (a,) = node.parents
    a.grad += node.data * node.grad


def _grad_tanh(node):
    (a,) = node.parents
    a.grad += (1.0 - node.data ** 2) * node.grad


def _grad_relu(node):
    (a,) = node.parents
    if a.data > 0:
        a.grad += node.grad


def _grad_neg(node):
    (a,) = node.parents
    a.grad -= node.grad


BACKWARD_RULES = {
    '+': _grad_add,
    '*': _grad_mul,
    '/': _grad_div,
    '**': _grad_pow,
    'exp': _grad_exp,
    'tanh': _grad_tanh,
    'relu': _grad_relu,
    'neg': _grad_neg,
}


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:

    def __init__(self, data, parents=(), op='', arg=None):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self.arg = arg

    def __repr__(self):
        return 'Value(%g, grad=%g)' % (self.data, self.grad)

    # --- forward ---
    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), '+')

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), '*')

    def __truediv__(self, other):
        other = as_value(other)
        return Value(self.data / other.data, (self, other), '/')

    def __pow__(self, n):
        if not isinstance(n, (int, float)):
            raise TypeError('exponent must be a number')
        return Value(self.data ** n, (self,), '**', arg=n)

    def __neg__(self):
        return Value(-self.data, (self,), 'neg')

    def __sub__(self, other):
        return self + (-as_value(other))

    def __radd__(self, other):
        return as_value(other) + self

    def __rmul__(self, other):
        return as_value(other) * self

    def __rsub__(self, other):
        return as_value(other) + (-self)

    def __rtruediv__(self, other):
        return as_value(other) / self

    def exp(self):
        return Value(math.exp(self.data), (self,), 'exp')

    def tanh(self):
        return Value(math.tanh(self.data), (self,), 'tanh')

    def relu(self):
        return Value(max(0.0, self.data), (self,), 'relu')

    # --- backward ---
    def backward(self):
        order = []
        seen = set()

        def visit(node):
            if node in seen:
                return
            seen.add(node)
            for p in node.parents:
                visit(p)
            order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            if node.op:  # leaves have no op
                BACKWARD_RULES[node.op](node)
