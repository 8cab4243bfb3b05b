"""GB 11643 citizen ID number check (cadres.services.id_number_valid) — pure."""

from __future__ import annotations

import pytest

from jishi.cadres.services import ID_CHECK, ID_WEIGHTS, id_number_valid


def with_check_character(body: str) -> str:
    """Append the ISO 7064 MOD 11-2 check character, computed independently of the code under test."""
    remainder = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body)) % 11
    return body + "10X98765432"[remainder]


def test_the_weights_and_check_table_are_the_ones_in_gb_11643():
    assert tuple(2 ** (17 - i) % 11 for i in range(17)) == ID_WEIGHTS
    assert ID_CHECK == "10X98765432"


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",  # the example printed in GB 11643-1999
        "440524188001010014",
        with_check_character("51100219800101123"),
        with_check_character("51102519851215004"),
    ],
)
def test_it_accepts_a_number_with_the_right_check_character(value):
    assert id_number_valid(value) is True


def test_it_accepts_a_lower_case_x_and_surrounding_spaces():
    assert id_number_valid("11010519491231002x") is True
    assert id_number_valid("  11010519491231002X\n") is True


@pytest.mark.parametrize("wrong", "0123456789")
def test_it_refuses_every_wrong_check_character(wrong):
    assert id_number_valid("11010519491231002" + wrong) is False


def test_it_refuses_a_swap_of_two_neighbouring_digits():
    assert id_number_valid("11010519491213002X") is False


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002XX",  # 19 characters
        "110105194912310",  # old 15-digit number
        "1101051949123100AX",  # letter in the body
        "X10105194912310021",  # X anywhere but last
        "11010519491231 002X",
    ],
)
def test_it_refuses_a_number_of_the_wrong_shape(value):
    assert id_number_valid(value) is False


def test_it_refuses_full_width_digits():
    # "１１０１０５１９４９１２３１００２X": str.isdigit() and int() both accept full-width digits,
    # so the number passes although GB 11643 numbers are ASCII and its hash differs from the ASCII one.
    assert id_number_valid("１１０１０５１９４９１２３１００２X") is False


def test_it_refuses_a_superscript_digit_instead_of_crashing():
    # "²".isdigit() is True but int("²") raises ValueError.
    assert id_number_valid("1101051949123100²X") is False
