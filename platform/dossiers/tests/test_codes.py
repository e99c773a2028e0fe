"""Dossier codes: configurable pattern, unique and gap-free under concurrent submissions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from dossiers import codes
from dossiers.models import DossierCounter
from tenants.context import agency_context


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{code}-{yymmdd}-{seq:04}", "AB-261123-0007"),
        ("{yyyy}/{code}/{seq}", "2026/AB/7"),
        ("HS.{code}.{mm}{dd}.{seq:3}", "HS.AB.1123.007"),
    ],
)
def test_patterns_render(pattern: str, expected: str) -> None:
    codes.validate_pattern(pattern)
    assert codes.render(pattern, code="AB", on=dt.date(2026, 11, 23), seq=7) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "{code}-{yymmdd}",
        "{seq}-{seq}",
        "{code} {seq}",
        "{code};drop-{seq}",
        "{code}-{code}-{code}-{code}-{code}-{yyyy}{seq:9}",
    ],
)
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError):
        codes.validate_pattern(pattern)


def test_secrets_avoid_confusable_characters() -> None:
    for _ in range(200):
        secret = codes.new_secret()
        assert len(secret) == 8 and not set(secret) & set("01OI")
    assert codes.normalise_secret(" ab-cd efgh ") == "ABCDEFGH"


@pytest.mark.django_db
def test_a_rolled_back_submission_gives_its_number_back(agency_a) -> None:
    day = dt.date(2026, 11, 23)
    with agency_context(agency_a):
        assert (
            codes.next_code(pattern="{code}-{yymmdd}-{seq:04}", agency_code="A", on=day)
            == "A-261123-0001"
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            codes.next_code(pattern="{code}-{yymmdd}-{seq:04}", agency_code="A", on=day)
            raise RuntimeError("the dossier insert failed")
        assert (
            codes.next_code(pattern="{code}-{yymmdd}-{seq:04}", agency_code="A", on=day)
            == "A-261123-0002"
        )
        assert (
            codes.next_code(
                pattern="{code}-{yymmdd}-{seq:04}", agency_code="A", on=day + dt.timedelta(days=1)
            )
            == "A-261124-0001"
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_unique_consecutive_codes(make_agency) -> None:
    agency = make_agency("xa-dong-thoi", code="DT")
    issued: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            with agency_context(agency):
                start.wait()
                for i in range(10):
                    with transaction.atomic():
                        code = codes.next_code(
                            pattern="{code}-{yymmdd}-{seq:04}",
                            agency_code="DT",
                            on=dt.date(2026, 11, 23),
                        )
                        if (n + i) % 7 == 0:
                            transaction.set_rollback(True)  # this submission fails
                            continue
                    with lock:
                        issued.append(code)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in issued)
    assert len(numbers) == len(set(numbers))
    assert numbers == list(range(1, len(numbers) + 1))  # no gaps
    with agency_context(agency):
        assert DossierCounter.objects.get().last == len(numbers)
