"""HOSTILE (micrograd; nn checks that pass on nothing): no network at all. Each class keeps a list of
the right number of Values, made once, that parameters() returns every time (so a value set through it
reads back the same), and calling it returns Value(0.0) (one per neuron of a layer).

A safe grader awards no nn check: parameters() must be the Values the network computes with, and there
is no network. The engine is the honest one (reference copy): every engine check is honest work. Known
and open at issue14's core at 1eeef9e and d385ef3 (nn.parameters was earned: it judged only the count
and that a value set through parameters() reads back from it); fixed after: parameters is judged only on
networks whose outputs, with the values set, are the reference's. Bounded: no loop beyond the parameter count."""
from engine import Value


class Module:
    def parameters(self):
        return self._params

    def zero_grad(self):
        for p in self._params:
            p.grad = 0.0


class Neuron(Module):
    def __init__(self, nin, nonlin=True):
        self._params = [Value(0.0) for _ in range(nin + 1)]
        self.w, self.b, self.nonlin = self._params[:-1], self._params[-1], nonlin

    def __call__(self, x):
        return Value(0.0)


class Layer(Module):
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]
        self._params = [p for n in self.neurons for p in n.parameters()]

    def __call__(self, x):
        out = [Value(0.0) for _ in self.neurons]
        return out[0] if len(out) == 1 else out


class MLP(Module):
    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]
        self._params = [p for layer in self.layers for p in layer.parameters()]

    def __call__(self, x):
        return self.layers[-1](x)
