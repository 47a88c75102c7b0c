"""Trace a tiny workflow, give feedback, and see what each parameter receives. No LLM is called.

    .venv/bin/python examples/trace_basics.py
"""

import optotrace as ot
from optotrace.trace import union_subgraph

greeting = ot.node("Hello", name="greeting", trainable=True, description="how the reply opens")
punctuation = ot.node("!", name="punctuation", trainable=True)


@ot.bundle(trainable=True)
def reply(opening, user):
    """Write a reply to the user."""
    return f"{opening}, {user}"


answer = reply(greeting, ot.node("Ada", name="user")) + punctuation
print("answer:", answer.data)
print("\ngraph, in execution order:")
for n in ot.subgraph(answer):
    print(f"  {n.kind:<9} {n.name:<14} {n.data!r:.50}")

answer.backward("Too casual for a support ticket; also greet by full name.")
for param in (greeting, punctuation, reply.parameter):
    for item in param.feedback:
        print(f"\n{param.name} received {item.feedback!r}")
        print("  via:", " -> ".join(n.name for n in item.subgraph))
print("\nan optimizer would show its model", len(union_subgraph([greeting, punctuation])), "nodes")
