"""Bad slugs, schema names and hostnames are refused before the database is touched."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tenants import services
from tenants.models import Agency
from tenants.validators import validate_hostname, validate_schema_name, validate_slug


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("Phuong-A", "invalid"),  # uppercase
        ("phuong_a", "invalid"),  # underscore
        ("a; drop schema public cascade", "invalid"),  # SQL-ish
        ("x'--", "invalid"),
        ("-phuong", "invalid"),
        ("phuong--a", "invalid"),
        ("1phuong", "invalid"),
        ("public", "reserved"),
        ("www", "reserved"),
        ("agency-template", "reserved"),
        ("pg-temp", "reserved"),  # schema pg_temp: PostgreSQL's
        ("information-schema", "reserved"),
        ("select", "reserved"),  # SQL key words make unquoted SQL break
        ("user", "reserved"),
        ("p" * 51, "max_length"),
        ("", "required"),
    ],
)
def test_bad_slugs_are_refused_with_a_reason(slug: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_slug(slug)
    assert exc.value.code == code
    assert exc.value.messages[0]  # a human-readable message


@pytest.mark.parametrize(
    "name",
    [
        "public",
        "pg_catalog",
        "information_schema",
        "pg_x",
        "Upper",
        "a-b",
        "a" * 64,
        "agency_template",
        "table",
        "x;drop",
    ],
)
def test_bad_schema_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_schema_name(name)
    assert exc.value.messages[0]


@pytest.mark.django_db
def test_a_duplicate_hostname_is_refused_at_creation(make_agency) -> None:
    from tenants.models import Domain

    other = make_agency("phuong-khac", provision=False)
    Domain.objects.create(domain="phuong-cu.localhost", tenant=other)
    with pytest.raises(ValidationError) as exc:
        services.agency_create(slug="phuong-cu", name="Cũ", kind="commune", province_code="31")
    assert exc.value.code == "duplicate"
    assert not Agency.objects.filter(slug="phuong-cu").exists()


@pytest.mark.parametrize(
    "host", ["localhost", "-bad.example.vn", "a..b", "exa mple.vn", "x" * 64 + ".vn"]
)
def test_bad_hostnames_are_refused(host: str) -> None:
    with pytest.raises(ValidationError):
        validate_hostname(host)


@pytest.mark.django_db
def test_agency_create_refuses_bad_slug_without_any_write(django_assert_num_queries) -> None:
    with django_assert_num_queries(0), pytest.raises(ValidationError):
        services.agency_create(slug="Bad Slug", name="X", kind="commune", province_code="31")
    assert not Agency.objects.exists()


@pytest.mark.django_db
def test_agency_create_refuses_unknown_kind_and_empty_name() -> None:
    with pytest.raises(ValidationError):
        services.agency_create(slug="phuong-x", name="X", kind="planet", province_code="31")
    with pytest.raises(ValidationError):
        services.agency_create(slug="phuong-x", name="  ", kind="commune", province_code="31")
    assert not Agency.objects.exists()


@pytest.mark.django_db
def test_duplicate_slug_is_refused(make_agency) -> None:
    make_agency("phuong-trung", provision=False)
    with pytest.raises(ValidationError) as exc:
        services.agency_create(slug="phuong-trung", name="Khác", kind="commune", province_code="31")
    assert exc.value.code == "duplicate"
    assert Agency.objects.filter(slug="phuong-trung").count() == 1
