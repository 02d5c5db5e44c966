"""HOSTILE (micrograd; nn parameters that are not the network): the honest engine and network, but
parameters() returns new Values each call, copies of the network's weights and biases: setting their
data, or reading their grad, does not reach the network (and zero_grad() zeroes nothing that matters).

A safe grader must award no nn check: the values it sets through parameters() are not the ones
parameters() gives back, the outputs are the network's own weights', no gradient reaches what it
reads. The engine is the honest one: every engine check is honest work. Bounded: no loop of its own."""
from engine import Value
from honest_nn import MLP, Layer, Module, Neuron  # noqa: F401


def _fresh(params):
    return [Value(p.data) for p in params]


Neuron.parameters = lambda self: _fresh(self.w + [self.b])
Layer.parameters = lambda self: _fresh([p for n in self.neurons for p in n.w + [n.b]])
MLP.parameters = lambda self: _fresh([p for layer in self.layers for n in layer.neurons for p in n.w + [n.b]])
