"""The storage suite runs on both backends (issue 11): the ``backend`` fixture of tests/conftest.py."""
import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param
