"""K-FAC and MKOR figures for perf/numeric.py: plain step and training step against AdamW's on the same model, in
the same run, and the same for nngeometry's K-FAC (the peer) when .venv-peers has it.

Each K-FAC / MKOR figure is the mean over cycles of `INV_EVERY` steps, one of which refreshes the inverses (K-FAC)
or takes the rank-1 updates (MKOR), so the refresh cost is amortized as in training.

The peer, nngeometry (`pip install --no-deps nngeometry` in .venv-peers: its requirements would replace the CPU
torch with a CUDA build), has no optimizer class: its K-FAC step is the Fisher in `PMatKFAC` form from `FIM`
(closed-form expectation over the classes: one backward per class) every `INV_EVERY` steps, `.inverse(regul)`,
and `.mv` of the gradient each step. It runs in its own interpreter (`python perf/numeric_kron.py --peer`), with
its own AdamW baseline measured in that process, so its ratio is comparable to ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

INV_EVERY = 10
ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".venv-peers" / "bin" / "python"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_model(device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(1024, 2048), nn.Tanh(), nn.Linear(2048, 1024), nn.Tanh(), nn.Linear(1024, 1024), nn.Tanh(),
        nn.Linear(1024, 10),
    ).to(device)


def batch_of(device: torch.device, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator(device=device).manual_seed(2)
    return torch.randn(batch, 1024, generator=g, device=device), torch.randint(0, 10, (batch,), generator=g,
                                                                               device=device)


def per_step(fn: Callable[[], Any], device: torch.device, cycles: int, k: int) -> float:
    """Median seconds per step of fn(), which runs k steps, over `cycles` timed runs after one warm-up."""
    fn()
    times = []
    for _ in range(cycles):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - t0) / k)
    times.sort()
    return times[len(times) // 2]


def ours(device: torch.device, batch: int, cycles: int) -> dict[str, float]:
    """Seconds per plain step and per training step of AdamW, K-FAC and MKOR (refresh every INV_EVERY steps)."""
    from optotrace.optimizers.numeric import KFAC, MKOR

    x, y = batch_of(device, batch)
    loss_fn = nn.CrossEntropyLoss()
    out: dict[str, float] = {}
    makers: dict[str, Callable[[nn.Module], torch.optim.Optimizer]] = {
        "AdamW": lambda m: torch.optim.AdamW(m.parameters(), lr=1e-4, foreach=True),
        "KFAC": lambda m: KFAC(m, lr=1e-3, inv_every=INV_EVERY),
        "KFAC(cov_every=10)": lambda m: KFAC(m, lr=1e-3, inv_every=INV_EVERY, cov_every=INV_EVERY),
        "MKOR": lambda m: MKOR(m, lr=1e-3, inv_every=INV_EVERY),
    }
    for name, make in makers.items():
        model = make_model(device)
        opt = make(model)

        def train(k: int, model: nn.Module = model, opt: torch.optim.Optimizer = opt) -> None:
            for _ in range(k):
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()

        k = INV_EVERY  # AdamW too: every figure is a median over cycles of the same length
        out[f"{name} training"] = per_step(lambda train=train, k=k: train(k), device, cycles, k)
        opt.zero_grad()
        loss_fn(model(x), y).backward()  # gradients (and, for K-FAC/MKOR, the layers' recorded batch) kept
        layers = getattr(opt, "layers", [])
        saved = [(list(lay.inputs), list(lay.grads)) for lay in layers]

        def plain(k: int, opt: torch.optim.Optimizer = opt, layers: list = layers, saved: list = saved) -> None:
            for _ in range(k):
                for lay, (ins, gs) in zip(layers, saved, strict=True):
                    lay.inputs[:], lay.grads[:] = ins, gs
                opt.step()

        out[f"{name} step"] = per_step(lambda plain=plain, k=k: plain(k), device, cycles, k)
    return out


def peer(device: torch.device, batch: int, cycles: int) -> dict[str, float]:
    """nngeometry's K-FAC (run inside the peers' interpreter): seconds per training step, and AdamW's there."""
    from nngeometry.metrics import FIM
    from nngeometry.object import PMatKFAC, PVector

    x, y = batch_of(device, batch)
    loss_fn = nn.CrossEntropyLoss()
    out: dict[str, float] = {}
    model = make_model(device)
    adamw = torch.optim.AdamW(model.parameters(), lr=1e-4, foreach=True)

    def adamw_step() -> None:
        adamw.zero_grad()
        loss_fn(model(x), y).backward()
        adamw.step()

    out["AdamW training"] = per_step(adamw_step, device, cycles, 1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch)
    model = make_model(device)
    state: dict[str, Any] = {}

    def kfac_cycle() -> None:
        for i in range(INV_EVERY):
            if i == 0:
                fisher = FIM(model=model, loader=loader, representation=PMatKFAC,
                             variant="classif_logits", device=str(device))
                state["inv"] = fisher.inverse(regul=1e-3)
            model.zero_grad()
            loss_fn(model(x), y).backward()
            direction = state["inv"].mv(PVector.from_model_grad(model))
            with torch.no_grad():
                (PVector.from_model(model) - 1e-3 * direction).copy_to_model(model)

    out["nngeometry KFAC training"] = per_step(kfac_cycle, device, cycles, INV_EVERY)
    return out


def peer_figures(device: torch.device, batch: int, cycles: int, python: str | None = None) -> dict[str, float] | str:
    """The peer's figures from `python` (default: the checkout's .venv-peers), or why there are none."""
    interpreter = Path(python) if python else PEERS
    if not interpreter.exists():
        return f"no {interpreter} here (--peer-python)"
    proc = subprocess.run(
        [str(interpreter), str(Path(__file__).resolve()), "--peer", "--device", str(device), "--batch", str(batch),
         "--cycles", str(cycles), "--threads", str(torch.get_num_threads())],
        capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"nngeometry run failed: {tail}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", action="store_true", help="measure nngeometry (run by the peers' interpreter)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.peer:
        try:
            figures = peer(device, args.batch, args.cycles)
        except ImportError as exc:
            print(f"nngeometry is not installed here: {exc}", file=sys.stderr)
            raise SystemExit(2) from exc
        print(json.dumps(figures))
        return
    print(json.dumps(ours(device, args.batch, args.cycles)))


if __name__ == "__main__":
    main()


def steps_to_loss(target: float = 3e-3, budget: int = 120) -> dict[str, int]:
    """Full-batch steps to a digits cross-entropy <= target, for a 64-32-10 MLP (the tests' convergence task):
    AdamW at the best of three learning rates, K-FAC and MKOR at one setting each (budget + 1: never)."""
    from sklearn.datasets import load_digits

    from optotrace.optimizers.numeric import KFAC, MKOR

    data = load_digits()
    x = torch.tensor(data.data, dtype=torch.float32)
    x, y = (x - x.mean(0)) / (x.std(0) + 1.0), torch.tensor(data.target)
    loss_fn = nn.CrossEntropyLoss()

    def run(make: Callable[[nn.Module], torch.optim.Optimizer]) -> int:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
        opt = make(model)
        for s in range(budget):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
            with torch.no_grad():
                if float(loss_fn(model(x), y)) <= target:
                    return s + 1
        return budget + 1

    return {
        "AdamW (best of lr 0.03, 0.1, 0.3)": min(
            run(lambda m, lr=lr: torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0)) for lr in (0.03, 0.1, 0.3)
        ),
        "KFAC(lr=0.3)": run(lambda m: KFAC(m, lr=0.3, kl_clip=1e-2, damping=1e-2)),
        "MKOR(lr=3)": run(lambda m: MKOR(m, lr=3.0)),
    }


def report(device: torch.device, batch: int, cycles: int, peer_python: str | None = None) -> None:
    """Print the K-FAC / MKOR section of perf/numeric.py."""
    figures = ours(device, batch, cycles)
    theirs = peer_figures(device, batch, cycles, peer_python)
    base_train, base_step = figures["AdamW training"], figures["AdamW step"]
    print(f"\nK-FAC / MKOR (batch {batch}, refresh every {INV_EVERY} steps, amortized; median of {cycles} cycles)")
    print("                          step ms  x AdamW step   training ms  x AdamW training")
    for name in ("AdamW", "KFAC", "KFAC(cov_every=10)", "MKOR"):
        s, t = figures[f"{name} step"], figures[f"{name} training"]
        print(f"  {name:<22} {s * 1e3:9.2f}  {s / base_step:10.2f}   {t * 1e3:11.2f}  {t / base_train:10.2f}")
    if isinstance(theirs, str):
        print(f"  peer: nngeometry not measured ({theirs})")
    else:
        ratio = theirs["nngeometry KFAC training"] / theirs["AdamW training"]
        print(f"  nngeometry KFAC training {theirs['nngeometry KFAC training'] * 1e3:.2f} ms = {ratio:.2f}x the AdamW "
              f"training step in its own process ({theirs['AdamW training'] * 1e3:.2f} ms)")
    steps = steps_to_loss()
    print("  steps to digits loss 3e-3 (full batch, 64-32-10 MLP): "
          + ", ".join(f"{k} {v}" for k, v in steps.items()))
    adamw = next(v for k, v in steps.items() if k.startswith("AdamW"))
    for name in ("KFAC", "KFAC(cov_every=10)", "MKOR"):
        ratio = figures[f"{name} training"] / base_train
        fewer = next(v for k, v in steps.items() if k.startswith(name[:4])) < adamw
        print(f"  goal {name}: training step {ratio:.2f}x AdamW (goal <= 1.5x): {'met' if ratio <= 1.5 else 'MISSED'};"
              f" fewer steps than AdamW to the same loss: {'met' if fewer else 'MISSED'}")
