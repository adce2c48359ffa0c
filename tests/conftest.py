"""Shared fixtures: a configuration in a temporary directory, a store, a seeded subscriber."""
from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import time

import pytest

from appliance.config import Config, DatabaseConfig, charging_policy
from appliance.ledger.api import LedgerClient
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Credentials, Product, Service
from appliance.ocs.units import Unit

# Never read the system's configuration (/etc/ocs-appliance/appliance.yaml of an installed package):
# every test and every subprocess it starts gets an empty configuration unless it passes --config.
_ISOLATED = os.path.join(__import__("tempfile").mkdtemp(prefix="appliance-test-"), "appliance.yaml")
open(_ISOLATED, "w").close()
os.environ["APPLIANCE_CONFIG"] = _ISOLATED


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_bound(port: int, kind: int, timeout: float = 60.0) -> None:
    """Until something is bound to the loopback port (a worker is listening)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listening on {port}")


def need_binary(name: str) -> str:
    """Path of a real peer binary; in CI its absence is a failure, elsewhere a skip."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (.ci/run must install it)")
        pytest.skip(f"{name} not installed")
    return path


# --- storage backend: "sqlite" unless a directory's conftest parametrizes ``backend``
# (tests/store runs on both); "postgres" gives each test a fresh schema on a private server.
from tests.pgfixture import pg_dsn, pg_server  # noqa: F401


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def cfg(tmp_path, backend, request) -> Config:
    database = DatabaseConfig(path="appliance.db") if backend == "sqlite" else \
        DatabaseConfig(backend="postgres", dsn=request.getfixturevalue("pg_dsn"))
    return Config(data_dir=str(tmp_path / "data"), run_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "logs"),
                  base_dir=str(tmp_path), database=database)


@pytest.fixture
def store(cfg):
    from appliance.store import open_store
    st = open_store(cfg)
    yield st
    st.close()


@pytest.fixture
def charging(store, cfg) -> LedgerClient:
    return LedgerClient(store, charging_policy(cfg))


DATA_OFFER = Offer("data", (Price("data-usage", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS, size=1_000_000,
                                  service=None),
                            Price("voice-usage", PriceType.USAGE, amount=10_000, unit=Unit.SECONDS, size=60),
                            Price("sms-usage", PriceType.USAGE, amount=5_000, unit=Unit.MESSAGES, size=1)))


def seed(store, imsi: str = "001010000000001", money: int = 10_000_000, offer: Offer = DATA_OFFER,
         product: str = "p1", msisdn: str | None = None, nai: str | None = None, password: str | None = "secret",
         buckets: tuple[NewBucket, ...] = ()) -> str:
    """Create offer, product, service and a money bucket; returns the service id (= IMSI)."""
    def put(l):
        l.put_offer(offer)
        l.put_product(Product(product, offer.name))
        l.put_service(Service(imsi, product, imsi=imsi, msisdn=msisdn, nai=nai,
                              credentials=Credentials(password=password)))
        if money:
            l.add_bucket(NewBucket(product, Unit.MONEY, money))
        for b in buckets:
            l.add_bucket(dataclasses.replace(b, product_id=product))
    store.transact(put)
    return imsi


@pytest.fixture
def seed_subscriber(store):
    return lambda **kw: seed(store, **kw)
