"""The deterministic extractor: the `label: value` lines a program printed, matched to the requested result keys.

Three tiers, tried in order for each key; within a tier the last occurrence in the output wins:
  A  a `label: value` (or `label = value`) line whose label equals the key after normalisation
     (case, punctuation, whitespace, a leading article, a trailing "is"; then also without
     parenthesised units: "(kg)"); a bare `Header:` line
     prefixes the labels under it ("Month 1:" then "Overtime production: 0" -> "Month 1 Overtime production").
  B  the key inside a sentence, the value the first number after it ("The total profit is $1,234.50.").
  C  a printed label that ends the key ("City 1" for "Whether a fire station is built in City 1"),
     when that label fits exactly one key and has at least two words.
Numbers: signs, "$", thousands commas, decimals, scientific notation; "None" counts as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"[-+\u2212]?\s*\$?\s*[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+\u2212]?\s*\$?\s*\.\d+(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(_NUM)
_VALUE_START = re.compile(r"^\s*(" + _NUM + r")")
_NONE_VALUE = re.compile(r"^\s*(none|nan|null)\b", re.IGNORECASE)
_SEP = re.compile(r"[:=]")
_WORD = re.compile(r"[a-z0-9]+")
_ARTICLES = {"the", "a", "an"}
_TRAILING_FILLER = {"is", "are", "was", "were", "equals", "be", "will"}
_GAP_FILLER = {"is", "are", "was", "were", "equals", "equal", "to", "of", "be", "will", "would", "the", "value", "usd"}
_MAX_GAP_WORDS = 6


_PAREN = re.compile(r"\([^()]*\)")


def normalize(label: str, drop_parentheses: bool = False) -> str:
    """Lower-case words only, without a leading article or a trailing "is" (and, when asked, without
    parenthesised units such as "(kg)")."""
    if drop_parentheses:
        label = _PAREN.sub(" ", label)
    words = _WORD.findall(label.lower())
    while words and words[0] in _ARTICLES:
        words = words[1:]
    while words and words[-1] in _TRAILING_FILLER:
        words = words[:-1]
    return " ".join(words)


def parse_number(text: str) -> float | None:
    """`-$1,234.5e3` -> -1234500.0; None when there is no number."""
    cleaned = text.replace("\u2212", "-").replace("$", "").replace(",", "").replace(" ", "")
    sign = -1.0 if cleaned.count("-") and cleaned.lstrip("+").startswith("-") else 1.0
    cleaned = cleaned.lstrip("+-")
    try:
        return sign * float(cleaned)
    except ValueError:
        return None


@dataclass(frozen=True)
class Pair:
    """A `label: value` line (value None when the line printed None/NaN)."""

    label: str
    value: float | None
    line_no: int


@dataclass(frozen=True)
class Found:
    value: float | None
    tier: str
    line: str


def split_pair(line: str) -> tuple[str, str] | None:
    """(label, rest) at the first `:` or `=` that is followed by a value (a number or None)."""
    for m in _SEP.finditer(line):
        rest = line[m.end() :]
        if _VALUE_START.match(rest) or _NONE_VALUE.match(rest):
            return line[: m.start()], rest
    return None


def _pair_value(rest: str) -> float | None:
    if _NONE_VALUE.match(rest):
        return None
    m = _VALUE_START.match(rest)
    return parse_number(m.group(1)) if m else None


def labelled_pairs(output: str) -> list[Pair]:
    """Every `label: value` line, with the label of the nearest `Header:` line above it prefixed."""
    pairs: list[Pair] = []
    header = ""
    for no, raw in enumerate(output.splitlines()):
        line = raw.strip()
        if not line:
            continue
        if line.endswith(":") and split_pair(line) is None:
            header = line[:-1]
            continue
        found = split_pair(line)
        if found is None:
            continue
        label, rest = found
        value = _pair_value(rest)
        pairs.append(Pair(label, value, no))
        if header:
            pairs.append(Pair(f"{header} {label}", value, no))
    return pairs


def _key_regex(key: str) -> re.Pattern[str] | None:
    words = _WORD.findall(key.lower())
    if not words:
        return None
    body = r"[^a-z0-9]+".join(re.escape(w) for w in words)
    return re.compile(r"(?<![a-z0-9])" + body + r"(?![a-z0-9])")


def _sentence_value(key_re: re.Pattern[str], line: str) -> tuple[bool, float | None]:
    """(found, value) for the key used inside free text; value from the first number after it."""
    low = line.lower()
    hit: tuple[bool, float | None] = (False, None)
    for m in key_re.finditer(low):
        rest = line[m.end() :]
        if _NONE_VALUE.match(rest.lstrip(" :=")):
            hit = (True, None)
            continue
        num = _NUMBER.search(rest)
        if not num:
            continue
        gap = rest[: num.start()]
        gap_words = _WORD.findall(gap.lower())
        if len(gap_words) > _MAX_GAP_WORDS:
            continue
        sep = _SEP.search(gap)
        if sep and any(w not in _GAP_FILLER for w in _WORD.findall(gap[: sep.start()].lower())):
            continue  # "<key> per truck: 5" is a different, longer label
        hit = (True, parse_number(num.group(0)))
    return hit


def extract_values(output: str, keys: list[str]) -> dict[str, Found]:
    """For each key that could be found, the value and the tier that found it."""
    pairs = labelled_pairs(output)
    by_label: dict[str, Pair] = {}
    bare_label: dict[str, Pair] = {}
    for pair in pairs:  # later lines overwrite earlier ones: the last occurrence wins
        by_label[normalize(pair.label)] = pair
        bare_label[normalize(pair.label, drop_parentheses=True)] = pair
    lines = output.splitlines()
    result: dict[str, Found] = {}
    for key in keys:
        norm, bare = normalize(key), normalize(key, drop_parentheses=True)
        pair = by_label.get(norm) if norm else None
        if pair is None and bare:
            pair = bare_label.get(bare)
        if pair is not None:
            result[key] = Found(pair.value, "A", lines[pair.line_no].strip())
            continue
        key_re = _key_regex(key)
        if key_re is None:
            continue
        for line in reversed(lines):
            found, value = _sentence_value(key_re, line)
            if found:
                result[key] = Found(value, "B", line.strip())
                break
    _suffix_tier(keys, by_label, lines, result)
    return result


def _suffix_tier(keys: list[str], by_label: dict[str, Pair], lines: list[str], result: dict[str, Found]) -> None:
    missing = [k for k in keys if k not in result]
    if not missing:
        return
    norm_keys = {k: normalize(k) for k in keys}
    for label, pair in by_label.items():
        if len(label.split()) < 2:
            continue
        ends = [k for k, nk in norm_keys.items() if nk != label and nk.endswith(" " + label)]
        if len(ends) == 1 and ends[0] in missing:
            result[ends[0]] = Found(pair.value, "C", lines[pair.line_no].strip())
