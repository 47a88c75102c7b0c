"""From the stage records to the dataset: every scenario, problem and question is either kept or rejected with
exactly one reason (the first stage that dropped it), so the card's counts add up by construction."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from optotrace.modeling.resocratic import backtranslate, card, export, templates
from optotrace.modeling.resocratic.expand import Problem
from optotrace.modeling.resocratic.store import RunStore

CHECKS_PASSED = [
    "format",
    "near_duplicate",
    "formal_translation",
    "formal_optimal",
    "program_ran",
    "program_optimal",
    "answers_agree",
    "question_checks",
]


@dataclass
class StageRecords:
    """What the stages recorded, each by id: the planned tasks, the scenario rows, the expanded problems, the
    formal solves, the generated code, its runs, the answers' agreement and the back-translated questions."""

    tasks: list[Any]
    scenario_rows: list[dict[str, Any]]
    problems: dict[str, Problem]
    formal: dict[str, Any]
    code: dict[str, Any]
    executed: dict[str, Any]
    agreement: dict[str, Any]
    questions: dict[str, Any]


def split_of(scenario_id: str, validation_fraction: float) -> str:
    """Deterministic by scenario, so the prefixes of one scenario never straddle train and validation."""
    h = int(hashlib.sha256(scenario_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "validation" if h < validation_fraction else "train"


def _problem_reason(
    pid: str,
    formal: dict[str, Any],
    code: dict[str, Any],
    executed: dict[str, Any],
    agreement: dict[str, Any],
) -> tuple[str, str]:
    f = formal.get(pid, {})
    if f.get("reason"):
        return f["reason"], f.get("detail", "")
    c = code.get(pid)
    if c is None or c.get("error"):
        return "codegen_llm_error", (c or {}).get("error") or "no code generation recorded"
    if not c.get("program"):
        return "codegen_no_program", "the reply holds no Python program"
    run = executed.get(pid)
    if run is None:
        return "sandbox_error", "no execution recorded"
    if not run.get("ok"):
        return run.get("reason") or "program_error", run.get("detail", "")
    a = agreement.get(pid)
    if a is None or not a.agree:
        detail = (
            ""
            if a is None
            else f"program {run.get('objective')} vs formal {f.get('objective')} (|diff| {a.abs_diff})"
        )
        return "answers_disagree", detail
    return "", ""


def assemble(store: RunStore, config: Any, records: StageRecords, model: str) -> dict[str, Any]:
    """Write samples.jsonl, rejections.jsonl, the SFT files, counts.json and the card; return the counts."""
    scenario_rejections = _scenario_rejections(records.scenario_rows)
    verified, problem_rejections = _verified_problems(records)
    samples, question_rejections = _samples(records, verified, config, model)
    rejections = scenario_rejections + problem_rejections + question_rejections
    store.write_jsonl("samples.jsonl", samples)
    store.write_jsonl("rejections.jsonl", rejections)
    export.write_sft(store.root, samples, fmt="chat")
    counts = _counts(records, verified, samples, rejections)
    store.write_json("counts.json", counts)
    card.write_card(store.root, counts, samples, model, config)
    return counts


def _scenario_rejections(scenario_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"level": "scenario", "id": row["id"], "reason": row["reason"],
         "detail": "; ".join(map(str, row.get("issues", [])))[:800]}
        for row in scenario_rows if row["status"] != "kept"
    ]


def _verified_problems(records: StageRecords) -> tuple[list[str], list[dict[str, Any]]]:
    """The problems every check passed, and a rejection for each other one."""
    verified: list[str] = []
    rejections: list[dict[str, Any]] = []
    for pid in records.problems:
        reason, detail = _problem_reason(pid, records.formal, records.code, records.executed, records.agreement)
        if reason:
            rejections.append({"level": "problem", "id": pid, "reason": reason, "detail": str(detail)[:800]})
        else:
            verified.append(pid)
    return verified, rejections


def _question_rejection(key: str, question: dict[str, Any]) -> dict[str, Any] | None:
    if question.get("error") or question.get("question") is None:
        return {"level": "question", "id": key, "reason": "backtranslate_llm_error",
                "detail": str(question.get("error") or "no reply recorded")[:800]}
    if question.get("failed_checks"):
        return {"level": "question", "id": key, "reason": f"question_{question['failed_checks'][0]}",
                "detail": ", ".join(question["failed_checks"])}
    return None


def _samples(
    records: StageRecords, verified: list[str], config: Any, model: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A sample for each verified problem and style whose question passed its checks; a rejection for each
    question that did not."""
    scenarios = {r["id"]: r for r in records.scenario_rows}
    samples: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    for pid in verified:
        scenario = scenarios[records.problems[pid].scenario_id]
        for style in backtranslate.STYLES:
            key = f"{pid}/{style}"
            question = records.questions.get(key, {})
            rejection = _question_rejection(key, question)
            if rejection is not None:
                rejections.append(rejection)
            else:
                samples.append(_sample(records, pid, style, scenario, question, config, model))
    return samples, rejections


def _sample(
    records: StageRecords,
    pid: str,
    style: str,
    scen: dict[str, Any],
    q: dict[str, Any],
    config: Any,
    model: str,
) -> dict[str, Any]:
    problem, f, run, agree = records.problems[pid], records.formal[pid], records.executed[pid], records.agreement[pid]
    code = records.code[pid]
    kind = "linear" if f.get("linear") else "nonlinear"
    return {
        "id": f"{pid}-{style}",
        "problem_id": pid,
        "scenario_id": problem.scenario_id,
        "type": f"{kind}-{'table' if style == 'table' else 'notable'}",
        "requested_kind": scen["kind"],
        "style": style,
        "question": q["question"],
        "program": code["program"],
        "framework": config.framework,
        "scenario": problem.text,
        "formal_spec": f.get("spec_json"),
        "n_variables": f.get("n_variables", problem.n_variables),
        "n_constraints": problem.n_constraints,
        "n_formal_constraints": f.get("n_constraints"),
        "truncated": bool(scen.get("truncated_at")),
        "answer": run.get("objective"),
        "solver_status": run.get("status"),
        "formal": {"status": f.get("status"), "objective": f.get("objective"), "solver": f.get("solver")},
        "agreement": {"abs_diff": agree.abs_diff, "rel_diff": agree.rel_diff, "rtol": agree.rtol, "atol": agree.atol},
        "checks_passed": list(CHECKS_PASSED),
        "number_coverage": q.get("number_coverage"),
        "provenance": {
            "seed_ids": scen["seed_ids"],
            "background": scen.get("background"),
            "model": model,
            "reply_models": sorted({m for m in (scen.get("model"), code.get("model"), q.get("model")) if m}),
            "prompt_hashes": {
                "synthesize": scen["prompt_hash"],
                "codegen": code.get("prompt_hash"),
                "backtranslate": q.get("prompt_hash"),
            },
            "template_hashes": {
                n: templates.template_hash(n)
                for n in ("synthesize_user", "codegen_" + config.framework, "backtranslate_" + style)
            },
        },
        "split": split_of(problem.scenario_id, config.validation_fraction),
    }


def _counts(
    records: StageRecords, verified: list[str], samples: list[dict[str, Any]], rejections: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the card shows: kept and rejected (by reason) at each level, and the samples by type and split."""
    reasons = {level: Counter(r["reason"] for r in rejections if r["level"] == level)
               for level in ("scenario", "problem", "question")}
    tasks, rows = records.tasks, records.scenario_rows
    return {
        "scenarios": {
            "requested": len(tasks),
            "kept": len(tasks) - sum(reasons["scenario"].values()),
            "rejected": dict(reasons["scenario"]),
            "truncated_kept": sum(1 for r in rows if r["status"] == "kept" and r.get("truncated_at")),
        },
        "problems": {"expanded": len(records.problems), "kept": len(verified), "rejected": dict(reasons["problem"])},
        "samples": {"candidates": 2 * len(verified), "kept": len(samples), "rejected": dict(reasons["question"])},
        "by_type": dict(Counter(s["type"] for s in samples)),
        "by_split": dict(Counter(s["split"] for s in samples)),
    }
