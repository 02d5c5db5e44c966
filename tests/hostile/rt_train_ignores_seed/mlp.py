"""HOSTILE (class 3/4, a property named but never tested): train ignores its ``seed`` argument and
always draws its mini-batches from a fixed internal seed. Otherwise the reference's honest mini-batch
SGD. The contract says the batches are "seeded by seed"; mlp.train calls train twice with the *same*
seed only, so it passes with the message "is reproducible from its seed", although no seed ever
reaches the sampling.

A safe grader must fail mlp.train here (e.g. also train with a second seed and require different
mini-batch losses), or stop claiming the property. Bounded: 100 steps of a 2-8-3 network."""
import honest_mlp as honest

MLP = honest.MLP


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    return honest.train(net, X, y, lr=lr, batch_size=batch_size, steps=steps, seed=12345)
