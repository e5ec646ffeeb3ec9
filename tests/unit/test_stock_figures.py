"""Stock arithmetic: what is available, committed and reserved, and setting what is available."""

import pytest

from tandem.inventory.domain import StockFigures, on_hand_for


def stock(on_hand, *, committed=0, reserved=0, lapsed=0) -> StockFigures:
    """A stock row as it is stored: `allocated` still includes reservations that lapsed."""
    return StockFigures(
        on_hand=on_hand,
        allocated=committed + reserved + lapsed,
        reserved_active=reserved,
        reserved_expired=lapsed,
    )


def test_with_nothing_sold_or_reserved_everything_on_hand_is_available():
    figures = stock(10)

    assert (figures.available, figures.committed, figures.reserved) == (10, 0, 0)


def test_units_committed_to_orders_are_not_available():
    figures = stock(10, committed=4)

    assert figures.available == 6
    assert figures.committed == 4


def test_units_reserved_by_open_checkouts_are_not_available():
    figures = stock(10, reserved=3)

    assert figures.available == 7
    assert figures.reserved == 3
    assert figures.committed == 0


def test_lapsed_reservations_not_yet_reclaimed_count_as_available():
    figures = stock(10, committed=4, reserved=3, lapsed=2)

    assert figures.available == 3
    assert figures.reserved == 3


def test_committed_units_exclude_every_active_reservation_lapsed_or_not():
    assert stock(10, committed=4, reserved=3, lapsed=2).committed == 4


def test_reclaiming_lapsed_reservations_does_not_change_what_is_available():
    before = stock(10, committed=4, reserved=3, lapsed=2)
    after = StockFigures(on_hand=10, allocated=before.allocated - 2, reserved_active=3, reserved_expired=0)

    assert after.available == before.available


def test_oversold_stock_shows_a_negative_availability():
    assert stock(2, committed=3).available == -1


@pytest.mark.parametrize("available", [0, 1, 7, 100])
def test_setting_what_is_available_keeps_committed_and_reserved_units(available):
    figures = stock(10, committed=4, reserved=3)

    on_hand = on_hand_for(available, figures)

    assert on_hand == available + 4 + 3
    assert StockFigures(on_hand, figures.allocated, 3, 0).available == available


def test_setting_what_is_available_counts_lapsed_reservations_as_free():
    figures = stock(10, committed=4, reserved=3, lapsed=2)

    on_hand = on_hand_for(5, figures)

    assert on_hand == 12
    assert StockFigures(on_hand, figures.allocated, 3, 2).available == 5
    assert StockFigures(on_hand, figures.allocated - 2, 3, 0).available == 5


def test_a_negative_availability_cannot_be_set():
    with pytest.raises(ValueError):
        on_hand_for(-1, stock(10))
