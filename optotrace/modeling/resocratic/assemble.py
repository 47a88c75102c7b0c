"""From the stage records to the dataset: every scenario, problem and question is either kept or rejected with
exactly one reason (the first stage that dropped it), so the card's counts add up by construction."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from optotrace.modeling.resocratic import backtranslate, card, export, templates
from optotrace.modeling.resocratic.expand import Problem
from optotrace.modeling.resocratic.store import RunStore


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


def assemble(
    store: RunStore,
    config: Any,
    tasks: list[Any],
    scenario_rows: list[dict[str, Any]],
    problems: dict[str, Problem],
    formal: dict[str, Any],
    code: dict[str, Any],
    executed: dict[str, Any],
    agreement: dict[str, Any],
    questions: dict[str, Any],
    model: str,
) -> dict[str, Any]:
    rejections: list[dict[str, Any]] = []
    scen_reasons: Counter[str] = Counter()
    for row in scenario_rows:
        if row["status"] != "kept":
            scen_reasons[row["reason"]] += 1
            rejections.append(
                {
                    "level": "scenario",
                    "id": row["id"],
                    "reason": row["reason"],
                    "detail": "; ".join(map(str, row.get("issues", [])))[:800],
                }
            )
    scen_by_id = {r["id"]: r for r in scenario_rows}
    prob_reasons: Counter[str] = Counter()
    verified: list[str] = []
    for pid in problems:
        reason, detail = _problem_reason(pid, formal, code, executed, agreement)
        if reason:
            prob_reasons[reason] += 1
            rejections.append({"level": "problem", "id": pid, "reason": reason, "detail": str(detail)[:800]})
        else:
            verified.append(pid)
    q_reasons: Counter[str] = Counter()
    samples: list[dict[str, Any]] = []
    for pid in verified:
        problem, f, run, agree = problems[pid], formal[pid], executed[pid], agreement[pid]
        scen = scen_by_id[problem.scenario_id]
        for style in backtranslate.STYLES:
            key = f"{pid}/{style}"
            q = questions.get(key, {})
            if q.get("error") or q.get("question") is None:
                q_reasons["backtranslate_llm_error"] += 1
                rejections.append(
                    {
                        "level": "question",
                        "id": key,
                        "reason": "backtranslate_llm_error",
                        "detail": str(q.get("error") or "no reply recorded")[:800],
                    }
                )
                continue
            if q.get("failed_checks"):
                reason = f"question_{q['failed_checks'][0]}"
                q_reasons[reason] += 1
                rejections.append(
                    {
                        "level": "question",
                        "id": key,
                        "reason": reason,
                        "detail": ", ".join(q["failed_checks"]),
                    }
                )
                continue
            kind = "linear" if f.get("linear") else "nonlinear"
            samples.append(
                {
                    "id": f"{pid}-{style}",
                    "problem_id": pid,
                    "scenario_id": problem.scenario_id,
                    "type": f"{kind}-{'table' if style == 'table' else 'notable'}",
                    "requested_kind": scen["kind"],
                    "style": style,
                    "question": q["question"],
                    "program": code[pid]["program"],
                    "framework": config.framework,
                    "scenario": problem.text,
                    "formal_spec": f.get("spec_json"),
                    "n_variables": f.get("n_variables", problem.n_variables),
                    "n_constraints": problem.n_constraints,
                    "n_formal_constraints": f.get("n_constraints"),
                    "truncated": bool(scen.get("truncated_at")),
                    "answer": run.get("objective"),
                    "solver_status": run.get("status"),
                    "formal": {
                        "status": f.get("status"),
                        "objective": f.get("objective"),
                        "solver": f.get("solver"),
                    },
                    "agreement": {
                        "abs_diff": agree.abs_diff,
                        "rel_diff": agree.rel_diff,
                        "rtol": agree.rtol,
                        "atol": agree.atol,
                    },
                    "checks_passed": [
                        "format",
                        "near_duplicate",
                        "formal_translation",
                        "formal_optimal",
                        "program_ran",
                        "program_optimal",
                        "answers_agree",
                        "question_checks",
                    ],
                    "number_coverage": q.get("number_coverage"),
                    "provenance": {
                        "seed_ids": scen["seed_ids"],
                        "background": scen.get("background"),
                        "model": model,
                        "reply_models": sorted(
                            {m for m in (scen.get("model"), code[pid].get("model"), q.get("model")) if m}
                        ),
                        "prompt_hashes": {
                            "synthesize": scen["prompt_hash"],
                            "codegen": code[pid].get("prompt_hash"),
                            "backtranslate": q.get("prompt_hash"),
                        },
                        "template_hashes": {
                            n: templates.template_hash(n)
                            for n in (
                                "synthesize_user",
                                "codegen_" + config.framework,
                                "backtranslate_" + style,
                            )
                        },
                    },
                    "split": split_of(problem.scenario_id, config.validation_fraction),
                }
            )
    store.write_jsonl("samples.jsonl", samples)
    store.write_jsonl("rejections.jsonl", rejections)
    export.write_sft(store.root, samples, fmt="chat")
    counts = {
        "scenarios": {
            "requested": len(tasks),
            "kept": len(tasks) - sum(scen_reasons.values()),
            "rejected": dict(scen_reasons),
            "truncated_kept": sum(
                1 for r in scenario_rows if r["status"] == "kept" and r.get("truncated_at")
            ),
        },
        "problems": {"expanded": len(problems), "kept": len(verified), "rejected": dict(prob_reasons)},
        "samples": {"candidates": 2 * len(verified), "kept": len(samples), "rejected": dict(q_reasons)},
        "by_type": dict(Counter(s["type"] for s in samples)),
        "by_split": dict(Counter(s["split"] for s in samples)),
    }
    store.write_json("counts.json", counts)
    card.write_card(store.root, counts, samples, model, config)
    return counts
