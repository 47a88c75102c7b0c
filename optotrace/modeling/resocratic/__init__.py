"""optotrace.modeling.resocratic: ReSocratic synthesis of optimization-modeling training data.

    from optotrace.modeling.resocratic import SynthConfig, SynthesisPlan, synthesize_dataset
    summary = synthesize_dataset("local", "runs/reso", SynthConfig(plan=SynthesisPlan(n=10)))
    summary.counts            # scenarios / problems / samples: kept and rejected by reason

Stages (one file each): seeds, format (parse/validate/truncate), dedup, expand, synthesize, formal + verify
(the `//` lines as a ModelSpec, solved independently), codegen, backtranslate, store (resume), assemble,
export (SFT chat files), card (Markdown + histogram), pipeline (the orchestration).
"""

from optotrace.modeling.resocratic.errors import ResocraticError
from optotrace.modeling.resocratic.export import export_run
from optotrace.modeling.resocratic.format import ParseResult, Scenario, Section, parse_scenario
from optotrace.modeling.resocratic.pipeline import RunSummary, SynthConfig, run_pipeline, synthesize_dataset
from optotrace.modeling.resocratic.seeds import Seed, SeedPool, default_pool, load_eopt_seeds, load_own_seeds
from optotrace.modeling.resocratic.synthesize import SynthesisPlan
from optotrace.modeling.resocratic.verify import compare, solve_formal, to_modelspec

__all__ = [
    "ParseResult",
    "ResocraticError",
    "RunSummary",
    "Scenario",
    "Section",
    "Seed",
    "SeedPool",
    "SynthConfig",
    "SynthesisPlan",
    "compare",
    "default_pool",
    "export_run",
    "load_eopt_seeds",
    "load_own_seeds",
    "parse_scenario",
    "run_pipeline",
    "solve_formal",
    "synthesize_dataset",
    "to_modelspec",
]
