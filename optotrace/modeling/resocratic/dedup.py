"""Near-duplicate removal: TF-IDF cosine similarity on the variables and objective sections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.7


@dataclass(frozen=True)
class DuplicateVerdict:
    """For one candidate: kept, or the id of what it duplicates and how similar they are."""

    kept: bool
    duplicate_of: str | None = None
    similarity: float = 0.0


def near_duplicates(
    candidates: Sequence[tuple[str, str]],
    reference: Sequence[tuple[str, str]] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> list[DuplicateVerdict]:
    """Greedy, in order: a candidate is dropped when its cosine similarity to a reference text (e.g. the seeds
    it was written after, or what earlier runs kept) or to an earlier kept candidate exceeds `threshold`.

    `candidates` and `reference` are (id, text) pairs; the verdicts follow the order of `candidates`.
    """
    if not candidates:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer  # lazy: scikit-learn is heavy
    from sklearn.metrics.pairwise import cosine_similarity

    texts = [t for _, t in reference] + [t for _, t in candidates]
    try:
        matrix = TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b").fit_transform(texts)
    except ValueError:  # every text empty of words: nothing to compare
        return [DuplicateVerdict(True) for _ in candidates]
    sims = cosine_similarity(matrix[len(reference) :], matrix)
    kept_cols: list[int] = list(range(len(reference)))
    ids = [i for i, _ in reference] + [i for i, _ in candidates]
    verdicts: list[DuplicateVerdict] = []
    for row, _ in enumerate(candidates):
        col = len(reference) + row
        best, best_col = 0.0, -1
        for k in kept_cols:
            if sims[row, k] > best:
                best, best_col = float(sims[row, k]), k
        if best > threshold:
            verdicts.append(DuplicateVerdict(False, ids[best_col], round(best, 4)))
        else:
            verdicts.append(DuplicateVerdict(True, None, round(best, 4)))
            kept_cols.append(col)
    return verdicts
