import pytest


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"
