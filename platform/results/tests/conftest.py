"""The desk's fixtures (the commune's staff, household-business dossiers), reused."""

from desk.tests.conftest import staff, submit_shop

__all__ = ["staff", "submit_shop"]
