"""The deterministic extractor on real program outputs (CBC and SCIP logs included) and on edge cases."""

from __future__ import annotations

from bench_support import output

from optotrace.benchmarks.grading.extract import extract_values, normalize, parse_number


def values(text: str, keys: list[str]) -> dict[str, float | None]:
    return {k: f.value for k, f in extract_values(text, keys).items()}


def test_cbc_log_then_labels() -> None:
    keys = ["The number of bottles of black milk tea", "The number of bottles of green milk tea", "Total profit"]
    assert values(output("cbc_milk_tea"), keys) == {keys[0]: 136.0, keys[1]: 45.0, keys[2]: 655.0}


def test_scip_log_many_keys() -> None:
    got = values(output("scip_trucks"), ["Number of Trucks for GoodsZ", "Investment in Fuel Efficiency for GoodsZ", "Total Profit"])
    assert got == {"Number of Trucks for GoodsZ": 25.0, "Investment in Fuel Efficiency for GoodsZ": 60000.0, "Total Profit": 395000.0}


def test_header_lines_prefix_the_labels_under_them() -> None:
    got = values(output("cbc_months"), ["Month 1 Regular-time production", "Month 5 Overtime production", "Total cost"])
    assert got == {"Month 1 Regular-time production": 370.0, "Month 5 Overtime production": 80.0, "Total cost": 103960.0}


def test_short_label_that_ends_one_key() -> None:
    keys = [f"Whether a fire stations should be built in City {i}" for i in range(1, 7)]
    got = values(output("cbc_fire_stations"), keys + ["The optimal number of fire stations to be built is"])
    assert [got[k] for k in keys] == [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    assert got["The optimal number of fire stations to be built is"] == 2.0


def test_numbers_inside_labels() -> None:
    got = values(output("cbc_ads"), ["The number of IJ ads yielding 10,000 exposures", "The number of IJ ads yielding 3,000 exposures"])
    assert got == {"The number of IJ ads yielding 10,000 exposures": 6.0, "The number of IJ ads yielding 3,000 exposures": 2.0}


def test_missing_keys_are_absent() -> None:
    got = extract_values("Total profit: 5\n", ["Total profit", "The number of chairs"])
    assert set(got) == {"Total profit"}


def test_scientific_notation_signs_and_separators() -> None:
    text = "Cost: 1.5e+03\nLoss: -2.5E-4\nRevenue: $1,234.5\nDebt = -$7\nTiny: .5\n"
    assert values(text, ["Cost", "Loss", "Revenue", "Debt", "Tiny"]) == {
        "Cost": 1500.0, "Loss": -0.00025, "Revenue": 1234.5, "Debt": -7.0, "Tiny": 0.5,
    }


def test_values_inside_sentences() -> None:
    text = "The maximum profit you can get is $3,600.00 per week.\nSo the total cost is -12.5 dollars."
    got = values(text, ["The maximum profit you can get", "The total cost"])
    assert got == {"The maximum profit you can get": 3600.0, "The total cost": -12.5}


def test_the_last_occurrence_wins() -> None:
    text = "Total profit: 1\nsolver iterating\nTotal profit: 2\n"
    assert values(text, ["Total profit"]) == {"Total profit": 2.0}


def test_longer_label_is_not_taken_for_a_shorter_key() -> None:
    text = "Total profit per truck: 5\n"
    assert values(text, ["Total profit"]) == {}


def test_case_punctuation_articles_and_units() -> None:
    text = "the  TOTAL-profit is: 10\nThe amount of carrot to be added to each dish: 0.25\n"
    got = values(text, ["Total profit", "The amount of carrot (kg) to be added to each dish"])
    assert got == {"Total profit": 10.0, "The amount of carrot (kg) to be added to each dish": 0.25}


def test_none_is_found_but_has_no_value() -> None:
    found = extract_values("x: None\n", ["x"])
    assert found["x"].value is None


def test_helpers() -> None:
    assert normalize("The Total Profit is:") == "total profit"
    assert parse_number("-$1,234.5e1") == -12345.0
    assert parse_number("abc") is None
