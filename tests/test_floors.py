"""The floor tables of tests/test_pipeline.py are consistent (fast: no model is loaded)."""

from __future__ import annotations

from test_pipeline import CANNOT_FAIL_YET, HELD_OUT, IN_SAMPLE, Floor


def test_floors_are_counts_with_their_slack() -> None:
    assert Floor(53, 60, 2).limit == 51 and Floor(1, 60, 2, ceiling=True).limit == 3
    assert Floor(1, 12, 1).limit == 0 and Floor(0, 8, 2).limit == 0
    assert Floor(53, 60, 2).holds(51) and not Floor(53, 60, 2).holds(50)
    assert Floor(1, 60, 2, ceiling=True).holds(3) and not Floor(1, 60, 2, ceiling=True).holds(4)
    for table in (IN_SAMPLE, HELD_OUT):
        assert set(table) == set(IN_SAMPLE)
        for floor in table.values():
            assert 0 <= floor.measured <= floor.of and floor.slack >= 0
            assert floor.holds(floor.measured)  # what was measured passes


def test_only_the_named_floors_cannot_fail() -> None:
    """A floor of 0 (or a ceiling of every question) is no check: each such row is named in
    CANNOT_FAIL_YET, and nothing else is."""
    vacuous = {
        (name, figure)
        for name, table in (("IN_SAMPLE", IN_SAMPLE), ("HELD_OUT", HELD_OUT))
        for figure, floor in table.items()
        if (floor.limit >= floor.of if floor.ceiling else floor.limit <= 0)
    }
    assert vacuous == CANNOT_FAIL_YET
