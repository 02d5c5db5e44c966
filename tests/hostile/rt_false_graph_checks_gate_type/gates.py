"""NOT HOSTILE - a correct student solution that loses points (class 9, false failure). The reference's
gates (the student's honest_gates), each also a subclass of the student's own base class ``Gate``;
graph.py of this case checks ``isinstance(gate, Gate)`` in ComputationalGraph.gate() (a common
defensive habit) and is otherwise the reference's graph. With the student's own gates everything is
correct. The grader runs graph.py with its stand-in gate classes instead (session B), which are not
subclasses of the student's Gate, so every graph.* check is an error: 20 points lost by a correct
submission.

A safe grader must give full marks: a stand-in may replace a gate only where the student's gate is
wrong, or must behave like the student's class (e.g. subclass it, keep its bases), and the contract
must say that graph.py and mlp.py run with other gate classes. At fault: ops.op_load / grading.standins."""
import honest_gates


class Gate:
    """What every gate of mine is: forward(*inputs) -> output, backward(dout) -> one gradient per input."""


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (Gate, _honest), {})
