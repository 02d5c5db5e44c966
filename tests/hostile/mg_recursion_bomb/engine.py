"""HOSTILE (micrograd; resources: the worker's stack): the honest engine, except that backward() on a
graph deeper than 200 operations (the deep chain) raises the recursion limit to a million and recurses
through C (a sort whose key function calls itself): the worker's C stack overflows and the process
dies (SIGSEGV; core dumps off).

A safe grader reports that check as an error (the worker died) and nothing else: every other check
runs in a fresh worker and keeps the points of the honest code (all but engine.Value.deep_chain), with
no grader fault. Bounded: the crash comes within a second; where the stack is larger than expected,
the recursion stops at the limit (RecursionError)."""
import resource
import sys

from honest_engine import Value

_honest_backward = Value.backward


def _depth(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((c, False) for c in v._prev)
    depth = {}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(c)] for c in v._prev), default=0)
    return depth[id(root)]


def _dive(n):
    return sorted([1], key=lambda _: _dive(n + 1))


def _backward(self):
    if _depth(self) > 200:
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except (ValueError, OSError):
            pass
        sys.setrecursionlimit(1_000_000)
        _dive(0)
    _honest_backward(self)


Value.backward = _backward
