"""A scripted world for the ReSocratic tests: realistic replies for every stage, chosen by regex rules so that
concurrent calls get the right one (synthesis replies come from a queue: each is used exactly once)."""

from __future__ import annotations

import re
from typing import Any

# -- scenarios ----------------------------------------------------------------------------------------------
LIGHTHOUSE = """## Define Variables:
A lighthouse keeper's cooperative sells hand-made lamps and lanterns at the harbor market.
// variables: {"number of lamps": "Lamps", "number of lanterns": "Lanterns"}, where Lamps, Lanterns >= 0 and Lamps, Lanterns are integers

## Define Objective Function:
Each lamp earns a profit of $40 and each lantern earns $30. The cooperative wants to maximize its profit.
// Maximize 40 * Lamps + 30 * Lanterns

## Generate Constraint-1:
A lamp takes 2 hours of work and a lantern 1 hour; 100 hours are available.
// 2 * Lamps + Lanterns <= 100

## Generate Constraint-2:
The market stall can show at most 80 items.
// Lamps + Lanterns <= 80
"""
# the same scenario reworded a little: a near duplicate
LIGHTHOUSE_AGAIN = LIGHTHOUSE.replace("hand-made lamps", "handmade lamps").replace(
    "harbor market", "harbour market"
)

ORCHARD = """Sure! Here is a new scenario.

## Define Variables:
An orchard owner fences a rectangular plot for young apple trees and chooses its length and width in meters.
// variables: {"length of the plot": "Len", "width of the plot": "Wid"}, where Len, Wid >= 0

## Define Objective Function:
The owner wants the largest area for the trees.
// So, the objective function is: Maximize Len * Wid

## Generate Constraint-1:
There are 60 meters of fence for the four sides.
// 2 * Len + 2 * Wid <= 60

## Generate Constraint-2:
The plot must be at least 20 meters long to fit the irrigation line.
// Len >= 20
"""

# constraint-2 has no formal line: the scenario is truncated after constraint-1
FERRY = """## Define Variables:
A ferry company decides how many cars and trucks to load on the evening crossing.
// variables: {"number of cars": "Cars", "number of trucks": "Trucks"}, where Cars, Trucks >= 0 and Cars, Trucks are integers

## Define Objective Function:
A car pays a fare of $25 and a truck pays $70. The company wants to maximize the fare revenue.
// Maximize 25 * Cars + 70 * Trucks

## Generate Constraint-1:
The deck has 400 square meters; a car takes 10 and a truck takes 30 square meters.
// 10 * Cars + 30 * Trucks <= 400

## Generate Constraint-2:
The ferry also has a weight limit that the captain checks by eye.
"""

MALFORMED = """I think a good scenario would be a bakery. The bakery makes bread and cakes, and it wants to earn
money. Bread costs 2 dollars. I hope this helps!"""

# validates (it says Maximize) but its formal lines hold no expression: untranslatable
QUARRY = """## Define Variables:
A quarry cuts granite and marble blocks for builders.
// variables: {"granite blocks": "Granite", "marble blocks": "Marble"}, where Granite, Marble >= 0

## Define Objective Function:
The quarry wants as much profit as possible from its blocks.
// Maximize the total profit of the quarry

## Generate Constraint-1:
The saw runs at most 90 hours a week; a granite block needs 3 hours and a marble block 5 hours.
// 3 * Granite + 5 * Marble <= 90
"""

# constraint-2 contradicts constraint-1: the 2-constraint prefix is infeasible
KILN = """## Define Variables:
A pottery studio fires bowls in its kiln and decides how many batches to fire.
// variables: {"number of batches": "Batches"}, where Batches >= 0

## Define Objective Function:
Each batch costs $12 in electricity. The studio wants to minimize the electricity cost.
// Minimize 12 * Batches

## Generate Constraint-1:
Orders need at least 6 batches.
// Batches >= 6

## Generate Constraint-2:
The kiln can be booked for at most 4 batches.
// Batches <= 4
"""

SYNTH_REPLIES: list[Any] = [
    LIGHTHOUSE,
    ORCHARD,
    FERRY,
    MALFORMED,
    LIGHTHOUSE_AGAIN,
    RuntimeError("the server hung up"),
    QUARRY,
    KILN,
]

# -- programs ---------------------------------------------------------------------------------------------
PYOMO_TEMPLATE = """import pyomo.environ as pyo

model = pyo.ConcreteModel()
{body}
result = pyo.SolverFactory("{solver}").solve(model)
print("status:", result.solver.termination_condition)
print("objective:", pyo.value(model.obj))
"""


def pyomo_program(body: str, solver: str = "appsi_highs") -> str:
    return "```python\n" + PYOMO_TEMPLATE.format(body=body.strip(), solver=solver) + "```"


LIGHTHOUSE_C1 = pyomo_program("""
model.Lamps = pyo.Var(domain=pyo.NonNegativeIntegers)
model.Lanterns = pyo.Var(domain=pyo.NonNegativeIntegers)
model.obj = pyo.Objective(expr=40 * model.Lamps + 30 * model.Lanterns, sense=pyo.maximize)
model.c1 = pyo.Constraint(expr=2 * model.Lamps + model.Lanterns <= 100)
""")
LIGHTHOUSE_C2 = pyomo_program("""
model.Lamps = pyo.Var(domain=pyo.NonNegativeIntegers)
model.Lanterns = pyo.Var(domain=pyo.NonNegativeIntegers)
model.obj = pyo.Objective(expr=40 * model.Lamps + 30 * model.Lanterns, sense=pyo.maximize)
model.c1 = pyo.Constraint(expr=2 * model.Lamps + model.Lanterns <= 100)
model.c2 = pyo.Constraint(expr=model.Lamps + model.Lanterns <= 80)
""")
FERRY_C1 = pyomo_program("""
model.Cars = pyo.Var(domain=pyo.NonNegativeIntegers)
model.Trucks = pyo.Var(domain=pyo.NonNegativeIntegers)
model.obj = pyo.Objective(expr=25 * model.Cars + 70 * model.Trucks, sense=pyo.maximize)
model.c1 = pyo.Constraint(expr=10 * model.Cars + 30 * model.Trucks <= 400)
""")
# crashes: a misspelt Pyomo name
ORCHARD_C1 = pyomo_program(
    """
model.Len = pyo.Var(domain=pyo.NonNegativeReals)
model.Wid = pyo.Var(domain=pyo.NonNegativeReals)
model.obj = pyo.Objective(expr=model.Len * model.Wid, sense=pyo.maximize)
model.c1 = pyo.Constraintt(expr=2 * model.Len + 2 * model.Wid <= 60)
""",
    solver="scip_direct",
)
# runs, but forgot constraint-2 (Len >= 20): 225 where the formal model says 200
ORCHARD_C2 = pyomo_program(
    """
model.Len = pyo.Var(domain=pyo.NonNegativeReals)
model.Wid = pyo.Var(domain=pyo.NonNegativeReals)
model.obj = pyo.Objective(expr=model.Len * model.Wid, sense=pyo.maximize)
model.c1 = pyo.Constraint(expr=2 * model.Len + 2 * model.Wid <= 60)
""",
    solver="scip_direct",
)
NO_PROGRAM = "I am sorry, but I cannot write a program for this problem."

EXPECTED_OPTIMA = {"lighthouse-c1": 3000.0, "lighthouse-c2": 2600.0, "ferry-c1": 1000.0}


# -- questions --------------------------------------------------------------------------------------------
def _scenario_in(messages: list[dict[str, str]]) -> str:
    text = messages[-1]["content"]
    start = text.index("Scenario:") + len("Scenario:")
    end = text.index("Reply with the word problem only.")
    return text[start:end].strip()


def _prose(scenario: str) -> list[str]:
    return [
        ln.strip() for ln in scenario.splitlines() if ln.strip() and not ln.strip().startswith(("//", "#"))
    ]


def plain_question(messages: list[dict[str, str]]) -> str:
    prose = " ".join(_prose(_scenario_in(messages)))
    return f"{prose} How should the decision be made to reach the best objective?"


def table_question(messages: list[dict[str, str]]) -> str:
    lines = _prose(_scenario_in(messages))
    rows = "\n".join(f"| {i} | {ln} |" for i, ln in enumerate(lines[1:], 1))
    return f"{lines[0]}\n\n| fact | detail |\n|---|---|\n{rows}\n\nWhat decision reaches the best objective?"


def leaky_question(messages: list[dict[str, str]]) -> str:
    scenario = _scenario_in(messages)
    formal = [ln.strip()[2:].strip() for ln in scenario.splitlines() if ln.strip().startswith("//")]
    return plain_question(messages) + " Hint: " + formal[-1]


CODE = r"Write a Python program"
WORDS = r"self-contained word problem"
TABLE = r"Markdown table"
PLAIN = r"plain sentences"


def rules() -> list[tuple[str, Any]]:
    """Regex rules (first match wins) for the code and question prompts."""
    return [
        (rf"{CODE}.*lighthouse.*Generate Constraint-2", LIGHTHOUSE_C2),
        (rf"{CODE}.*lighthouse", LIGHTHOUSE_C1),
        (rf"{CODE}.*orchard.*Generate Constraint-2", ORCHARD_C2),
        (rf"{CODE}.*orchard", ORCHARD_C1),
        (rf"{CODE}.*ferry", FERRY_C1),
        (rf"{CODE}.*pottery", NO_PROGRAM),
        (rf"{WORDS}.*{TABLE}.*ferry", plain_question),  # asked for a table, wrote none
        (rf"{WORDS}.*{PLAIN}.*ferry", leaky_question),  # gives the formulation away
        (rf"{WORDS}.*{TABLE}", table_question),
        (rf"{WORDS}.*{PLAIN}", plain_question),
    ]


EXPECTED = {
    "scenarios": {
        "requested": 8,
        "kept": 5,
        "rejected": {"malformed": 1, "near_duplicate": 1, "llm_error": 1},
        "truncated_kept": 1,
    },
    "problems": {
        "expanded": 8,
        "kept": 3,
        "rejected": {
            "formal_untranslatable": 1,
            "formal_not_optimal": 1,
            "codegen_no_program": 1,
            "program_error": 1,
            "answers_disagree": 1,
        },
    },
    "samples": {
        "candidates": 6,
        "kept": 4,
        "rejected": {"question_table_missing": 1, "question_formal_leak": 1},
    },
    "by_type": {"linear-table": 2, "linear-notable": 2},
}


def scripted(first_rules: list[tuple[str, Any]] | None = None, **options: Any) -> Any:
    from optotrace.llm import ScriptedLLM

    return ScriptedLLM(replies=list(SYNTH_REPLIES), rules=[*(first_rules or []), *rules()], **options)


def is_synthesis(request: dict[str, Any]) -> bool:
    return bool(re.search(r"Write a new \w+ scenario", request["messages"][-1]["content"]))
