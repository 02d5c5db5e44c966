"""NOT HOSTILE (see gates.py of this case): the reference graph (the student's honest_graph), checking
isinstance(gate, Gate)."""
import honest_graph
from gates import Gate


class ComputationalGraph(honest_graph.ComputationalGraph):
    def gate(self, gate, *inputs):
        if not isinstance(gate, Gate):
            raise TypeError(f"{gate!r} is not a Gate")
        return super().gate(gate, *inputs)
