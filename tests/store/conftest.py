"""The storage suite runs on both backends (SQLite and PostgreSQL): the ``backend`` fixture of tests/conftest.py."""
import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param
