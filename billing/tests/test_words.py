"""Amounts in Vietnamese words, as the legal invoice writes its total."""

from __future__ import annotations

import pytest

from billing.words import number_in_words, vnd_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (21_000_000, "Hai mươi mốt triệu đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (3_410_000, "Ba triệu bốn trăm mười nghìn đồng"),
        (0, "Không đồng"),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
        (1_005_000_000, "Một tỷ không trăm linh năm triệu đồng"),
        (2_001_015, "Hai triệu không trăm linh một nghìn không trăm mười lăm đồng"),
    ],
)
def test_amounts(amount: int, words: str) -> None:
    assert vnd_in_words(amount) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi bốn"),
        (25, "hai mươi lăm"),
        (101, "một trăm linh một"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (1_001, "một nghìn không trăm linh một"),
        (1_010, "một nghìn không trăm mười"),
        (15_000, "mười lăm nghìn"),
        (250_000, "hai trăm năm mươi nghìn"),
    ],
)
def test_numbers(number: int, words: str) -> None:
    assert number_in_words(number) == words


def test_negative_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        number_in_words(-1)
