"""Numeric optimizers for tensor and float parameters, in torch.optim form.

Second order: `AdaHessian`, `SophiaH`, `SophiaG` (with `sampled_cross_entropy` for its estimator), `MFAC`.
Kronecker-factored, for the nn.Linear / nn.Conv2d layers of a model: `KFAC`, `MKOR` (KFAC(model, ...)).
Sign-based: `Lion`. Zeroth order (closures without gradients): `ZOSGD`, `DeepZero`.
Schedules: `linear_decay`, `refined_schedule` (callables for torch.optim.lr_scheduler.LambdaLR).
Trace bridge: `TensorParameters`, `NumericOptimizerAdapter` (ParameterNodes holding floats or tensors).

Paths: `foreach=` picks the multi-tensor or the per-tensor reference update; Lion, SophiaH, SophiaG and AdaHessian
also take `fused=`, one compiled kernel per large tensor (torch.compile: C++/OpenMP on CPU, Triton on CUDA; on by
default for groups of 2**20 float32/float64 elements or more where a compiler is present; see `_fused`).
"""

from optotrace.optimizers.numeric.adahessian import AdaHessian
from optotrace.optimizers.numeric.bridge import NumericOptimizerAdapter, TensorParameters, torch_params
from optotrace.optimizers.numeric.deepzero import DeepZero
from optotrace.optimizers.numeric.errors import NumericOptimizerError
from optotrace.optimizers.numeric.kfac import KFAC
from optotrace.optimizers.numeric.lion import Lion
from optotrace.optimizers.numeric.mfac import MFAC
from optotrace.optimizers.numeric.mkor import MKOR
from optotrace.optimizers.numeric.schedules import Schedule, linear_decay, refined_schedule
from optotrace.optimizers.numeric.sophia_g import SophiaG, sample_labels, sampled_cross_entropy
from optotrace.optimizers.numeric.sophia_h import SophiaH
from optotrace.optimizers.numeric.zosgd import ZOSGD

__all__ = [
    "KFAC",
    "MFAC",
    "MKOR",
    "ZOSGD",
    "AdaHessian",
    "DeepZero",
    "Lion",
    "NumericOptimizerAdapter",
    "NumericOptimizerError",
    "Schedule",
    "SophiaG",
    "SophiaH",
    "TensorParameters",
    "linear_decay",
    "refined_schedule",
    "sample_labels",
    "sampled_cross_entropy",
    "torch_params",
]
