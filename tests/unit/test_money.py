"""Money: decimal strings in, integer minor units inside, localised amounts out."""

from decimal import Decimal

import pytest

from tandem.errors import InvalidInput
from tandem.money import display, parse_field, percentage_of, to_decimal_string, to_minor


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("49.90", "EUR", 4990),
        ("49.9", "EUR", 4990),
        ("49", "EUR", 4900),
        ("0.01", "EUR", 1),
        ("0", "EUR", 0),
        ("49.900", "EUR", 4990),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("12.5", "KWD", 12500),
    ],
)
def test_a_decimal_amount_becomes_minor_units_of_its_currency(value, currency, minor):
    assert to_minor(value, currency) == minor


def test_integers_and_decimals_are_accepted_as_well_as_strings():
    assert to_minor(49, "EUR") == 4900
    assert to_minor(Decimal("49.90"), "EUR") == 4990


@pytest.mark.parametrize(
    ("value", "currency"), [("49.901", "EUR"), ("0.001", "EUR"), ("1500.5", "JPY"), ("1.2345", "KWD")]
)
def test_more_decimals_than_the_currency_has_are_refused(value, currency):
    with pytest.raises(ValueError, match=f"more decimals than {currency} allows"):
        to_minor(value, currency)


@pytest.mark.parametrize("value", ["", "abc", "49,90", "€49.90", "49.90 EUR", "1.2.3", "True"])
def test_things_that_are_not_numbers_are_refused(value):
    with pytest.raises(ValueError, match="decimal amount"):
        to_minor(value, "EUR")


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_not_a_number_and_infinity_are_refused(value):
    with pytest.raises(ValueError, match="finite"):
        to_minor(value, "EUR")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (4990, "EUR", "49.90"),
        (5, "EUR", "0.05"),
        (0, "EUR", "0.00"),
        (-5, "EUR", "-0.05"),
        (1500, "JPY", "1500"),
        (1234, "KWD", "1.234"),
    ],
)
def test_minor_units_are_shown_in_json_as_a_decimal_string_with_the_currency_digits(minor, currency, text):
    assert to_decimal_string(minor, currency) == text


@pytest.mark.parametrize("text", ["49.90", "0.05", "1234567.89"])
def test_a_decimal_string_reads_back_as_the_same_amount(text):
    assert to_decimal_string(to_minor(text, "EUR"), "EUR") == text


def test_amounts_are_displayed_the_english_way():
    assert display(4990, "EUR", "en") == "€49.90"
    assert display(1500, "JPY", "en") == "¥1,500"


def test_amounts_are_displayed_the_french_way():
    assert display(4990, "EUR", "fr") == "49,90\u00a0€"
    assert display(1234567, "EUR", "fr") == "12\u202f345,67\u00a0€"


def test_english_is_the_default_display_language():
    assert display(4990, "EUR") == "€49.90"


@pytest.mark.parametrize(
    ("minor", "percent", "result"),
    [
        (4990, Decimal("30"), 1497),
        (4990, Decimal("100"), 4990),
        (4990, Decimal("0"), 0),
        (25, Decimal("50"), 13),  # 12.5 rounds up, not to even
        (5, Decimal("10"), 1),  # 0.5 rounds up
        (999, Decimal("12.5"), 125),  # 124.875
        (1001, Decimal("33.3"), 333),  # 333.333
    ],
)
def test_a_percentage_of_an_amount_is_rounded_half_up_to_the_minor_unit(minor, percent, result):
    assert percentage_of(minor, percent) == result


def test_a_field_amount_is_parsed_into_minor_units():
    assert parse_field("49.90", "EUR", "amount") == 4990


@pytest.mark.parametrize("value", ["abc", "49.901", "NaN"])
def test_a_bad_field_amount_is_a_422_naming_the_field(value):
    with pytest.raises(InvalidInput) as refused:
        parse_field(value, "EUR", "line_items[0].price")

    assert refused.value.status == 422
    assert refused.value.field == "line_items[0].price"
    assert refused.value.message.startswith("line_items[0].price: ")


@pytest.mark.parametrize(
    "value",
    [
        # passes the API's Amount bound (0 <= x <= 1e12) and is silently rounded up to 1e14 minor units
        "999999999999.999999999999999999999",
        # passes the API's Amount bound and silently becomes 0
        "1e-999999999",
        # raises decimal.Overflow, which is not a ValueError, so it escapes parse_field as a 500
        "1e999999",
    ],
    ids=["more-digits-than-the-context-holds", "vanishing-fraction", "overflow"],
)
def test_amounts_decimal_arithmetic_cannot_hold_exactly_are_refused_as_a_422_not_rounded(value):
    with pytest.raises(InvalidInput) as refused:
        parse_field(value, "EUR", "price")

    assert refused.value.field == "price"
