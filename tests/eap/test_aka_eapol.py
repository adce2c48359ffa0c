"""EAP-AKA / EAP-AKA' against a real peer: hostap's eapol_test with its software USIM
(``password="K:OPc:SQN"``, built by .ci/setup.d/20-eapol-test-usim.sh), over RADIUS to the
appliance's radius worker on loopback.  eapol_test itself checks that the MS-MPPE keys of the
Access-Accept equal the MSK it derived ("MPPE keys OK: n  mismatch: 0")."""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path

import pytest

from appliance.ocs.inventory import Credentials
from tests.conftest import seed
from tests.radius.conftest import SECRET, RunningServer, radius_cfg

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
EAPOL_TEST = ROOT / ".ci" / "cache" / "eapol_test_usim"
K = "90dca4eda45b53cf0f12d7c9c3bc6a89"          # TS 35.208 test set 19
OPC = "cb9cccc4b9258e6dca4760379fb82581"
IMSI = "001010000000019"
REALM = "wlan.mnc001.mcc001.3gppnetwork.org"


def eapol_test_binary() -> Path:
    if not os.access(EAPOL_TEST, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{EAPOL_TEST} missing (.ci/setup.d/20-eapol-test-usim.sh builds it)")
        pytest.skip("eapol_test with the software USIM not built (run .ci/setup.d/20-eapol-test-usim.sh)")
    return EAPOL_TEST


@pytest.fixture
def aaa(cfg, store):
    rcfg = radius_cfg(cfg)
    seed(store, imsi=IMSI)

    def creds(ledger):
        svc = ledger.get_service(IMSI)
        ledger.put_service(dataclasses.replace(svc, credentials=Credentials(k=bytes.fromhex(K),
                                                                            opc=bytes.fromhex(OPC), sqn=0)))
    store.transact(creds)
    srv = RunningServer(rcfg).start()
    yield rcfg, store
    srv.close()


def eapol(rcfg, tmp_path: Path, method: str, sqn: str, k: str = K, repeat: int = 0,
          phase1: str = "") -> tuple[int, str]:
    exe = eapol_test_binary()
    prefix = "6" if method == "AKA'" else "0"
    conf = tmp_path / f"eapol-{method.replace(chr(39), 'p')}.conf"
    conf.write_text(f"""network={{
  ssid="aka"
  key_mgmt=WPA-EAP
  eap={method}
  identity="{prefix}{IMSI}@{REALM}"
  password="{k}:{OPC}:{sqn}"
  {f'phase1="{phase1}"' if phase1 else ""}
}}
""")
    cmd = [str(exe), "-c", str(conf), "-a", "127.0.0.1", "-p", str(rcfg.radius.auth_port), "-s", SECRET, "-t", "10"]
    if repeat:
        cmd.append(f"-r{repeat}")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    return res.returncode, res.stdout + res.stderr


def mppe_ok(out: str) -> int:
    m = re.search(r"MPPE keys OK: (\d+)\s+mismatch: (\d+)", out)
    assert m, "eapol_test printed no MPPE check"
    assert m.group(2) == "0", "MS-MPPE keys differ from the peer's MSK"
    return int(m.group(1))


def stored_sqn(store) -> int:
    return store.transact(lambda l: l.get_service(IMSI)).credentials.sqn


@pytest.mark.parametrize("method", ["AKA", "AKA'"])
def test_eapol_test_full_authentication(aaa, tmp_path, method):
    rcfg, store = aaa
    rc, out = eapol(rcfg, tmp_path, method, "000000000000")
    assert rc == 0 and out.rstrip().endswith("SUCCESS"), out[-2000:]
    assert mppe_ok(out) == 1
    assert "Access-Accept" in out
    if method == "AKA'":
        assert "AT_KDF_INPUT" in out
    assert stored_sqn(store) > 0


@pytest.mark.parametrize("method", ["AKA", "AKA'"])
def test_eapol_test_resynchronisation_usim_ahead(aaa, tmp_path, method):
    rcfg, store = aaa
    usim_sqn = 0x10000000
    rc, out = eapol(rcfg, tmp_path, method, f"{usim_sqn:012x}")
    assert "Synchronization-Failure" in out and "AT_AUTS" in out
    assert rc == 0 and out.rstrip().endswith("SUCCESS"), out[-2000:]
    assert mppe_ok(out) == 1
    assert stored_sqn(store) > usim_sqn


def test_eapol_test_wrong_k_is_rejected(aaa, tmp_path):
    rcfg, store = aaa
    rc, out = eapol(rcfg, tmp_path, "AKA", "000000000000", k="00" * 16)
    assert rc != 0 and "Access-Reject" in out and not out.rstrip().endswith("SUCCESS")
    assert "Authentication-Reject" in out                  # the USIM refused AUTN (MAC-A)
    assert stored_sqn(store) > 0


@pytest.mark.parametrize("method", ["AKA", "AKA'"])
def test_eapol_test_fast_reauthentication(aaa, tmp_path, method):
    rcfg, store = aaa
    rc, out = eapol(rcfg, tmp_path, method, "000000000000", repeat=2)
    assert rc == 0 and out.rstrip().endswith("SUCCESS"), out[-2000:]
    assert out.count("subtype Reauthentication") == 2
    assert mppe_ok(out) == 3
    reauth = store.transact(lambda l: l.list_docs("eap_aka_reauth"))
    assert len(reauth) == 1 and reauth[0][1]["counter"] == 2


@pytest.mark.parametrize("method", ["AKA", "AKA'"])
def test_eapol_test_protected_success_indication(aaa, tmp_path, method):
    """RFC 4187 §6.2: the peer asks for result indications; the server sends a MAC'd Success
    Notification (and, after re-authentication, the encrypted counter) before EAP-Success."""
    rcfg, _store = aaa
    rc, out = eapol(rcfg, tmp_path, method, "000000000000", repeat=1, phase1="result_ind=1")
    assert rc == 0 and out.rstrip().endswith("SUCCESS"), out[-2000:]
    assert out.count("Successful authentication notification") == 2
    assert mppe_ok(out) == 2



def round_trips(out: str) -> list[int]:
    """Access-Requests (RADIUS round trips) of each authentication in one eapol_test run (-r n)."""
    runs = out.split("CTRL-EVENT-EAP-STARTED")[1:]
    return [run.count("(Access-Request)") for run in runs]


@pytest.mark.parametrize("method", ["AKA", "AKA'"])
def test_eapol_test_reauth_identity_gets_aka_without_nak(aaa, tmp_path, method):
    """The identity's prefix chooses the method (TS 23.003 §14.4): with EAP-TTLS configured first, a
    permanent identity ('0'/'6') takes two round trips (Identity -> Challenge, Challenge -> Accept) and a
    re-authentication identity ('4'/'8') two (Identity -> Reauthentication -> Accept): no Nak round."""
    rcfg, _store = aaa
    assert rcfg.radius.eap_methods[0] == "ttls"
    rc, out = eapol(rcfg, tmp_path, method, "000000000000", repeat=1)
    assert rc == 0 and out.rstrip().endswith("SUCCESS"), out[-2000:]
    assert mppe_ok(out) == 2
    assert out.count("subtype Reauthentication") == 1
    assert round_trips(out) == [2, 2]
    assert "method=21" not in out                      # EAP-TTLS was never proposed


@pytest.mark.parametrize("outer,method", [("TTLS", "AKA"), ("TTLS", "AKA'"), ("PEAP", "AKA")])
def test_eapol_test_aka_inside_a_tunnel(cfg, store, tmp_path, outer, method):
    """EAP-AKA/AKA' as the inner method of EAP-TTLS (RFC 5281 §11.1) and PEAP: the same machine, the
    permanent identity inside, the tunnel's keys outside."""
    rcfg = radius_cfg(cfg, eap_inner_methods=("mschapv2", "aka", "aka_prime"))
    seed(store, imsi=IMSI)

    def creds(ledger):
        svc = ledger.get_service(IMSI)
        ledger.put_service(dataclasses.replace(svc, credentials=Credentials(k=bytes.fromhex(K),
                                                                            opc=bytes.fromhex(OPC), sqn=0)))
    store.transact(creds)
    srv = RunningServer(rcfg).start()
    try:
        prefix = "6" if method == "AKA'" else "0"
        conf = tmp_path / "eapol-tunnel.conf"
        conf.write_text(f"""network={{
  ssid="aka"
  key_mgmt=WPA-EAP
  eap={outer}
  identity="{prefix}{IMSI}@{REALM}"
  anonymous_identity="anonymous@{REALM}"
  password="{K}:{OPC}:000000000000"
  phase1="peapver=0"
  phase2="autheap={method}"
}}
""")
        res = subprocess.run([str(eapol_test_binary()), "-c", str(conf), "-a", "127.0.0.1", "-p",
                              str(rcfg.radius.auth_port), "-s", SECRET, "-t", "10"],
                             capture_output=True, text=True, timeout=60, check=False)
        out = res.stdout + res.stderr
        assert res.returncode == 0 and out.rstrip().endswith("SUCCESS"), out[-3000:]
        assert mppe_ok(out) == 1
        assert "EAP-AKA: subtype Challenge" in out or "subtype Challenge" in out
        inner = 50 if method == "AKA'" else 23
        assert f"Phase 2 Request: type={inner}" in out or f"Phase 2 EAP Request: type={inner}" in out
        assert stored_sqn(store) > 0
    finally:
        srv.close()
