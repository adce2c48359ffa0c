"""The AAA exchanges as Wireshark sees them: STa/SWm/S6b/SWx captured on lo, decoded by tshark,
zero malformed packets and every command present."""
from __future__ import annotations

import asyncio
import subprocess

import pytest

from appliance.diameter import codec as c
from appliance.diameter.apps import aaa as A
from appliance.eap import aka_codec as ac

from ..capture import Capture
from ..conftest import free_port, need_binary
from .conftest import HSS_IMSI, HSS_REALM, IMSI, LOCAL_REALM, provision, run, ue

pytestmark = pytest.mark.system


def test_aaa_capture_decodes_without_malformed_packets(aaa_env, store, tmp_path):
    tshark = need_binary("tshark")
    provision(store)
    port, hss_port = free_port(), free_port()
    pcap = tmp_path / "aaa.pcapng"
    with Capture(pcap, port, hss_port):      # leaves once everything sent is in the file
        async def go():
            async with aaa_env(port=port, hss_port=hss_port) as env:
                gw, pgw = env.gw, env.pgw
                sta = gw.node.new_session_id("sta")
                assert (await gw.eap(A.STA, sta, ue(ac.AKA_PRIME, sqn=1 << 20), anid="WLAN"))[0].result_code == 2001
                swm = gw.node.new_session_id("swm")
                assert (await gw.eap(A.SWM, swm, ue(ac.AKA)))[0].result_code == 2001
                assert (await gw.aar(A.SWM, swm)).result_code == 2001
                hss = gw.node.new_session_id("hss")
                terminal = ue(ac.AKA_PRIME, imsi=HSS_IMSI, realm=HSS_REALM, sqn=4000)
                assert (await gw.eap(A.STA, hss, terminal, anid="WLAN"))[0].result_code == 2001
                assert (await env.hss.push_profile(HSS_IMSI, "corp")).result_code == 2001
                s6b = pgw.node.new_session_id("s6b")
                assert (await pgw.aar(A.S6B, s6b, user=f"0{IMSI}@{LOCAL_REALM}", apn="internet",
                                      pgw="pgw-1.epc")).result_code == 2001
                assert (await pgw.str_(A.S6B, s6b)).result_code == 2001
                assert await env.app.reauthorize(sta, store.transact(lambda l: l.get_doc(A.SESSION_KIND, sta))) \
                    == 2001
                assert (await env.hss.deregister(HSS_IMSI)).result_code == 2001
                await asyncio.wait_for(gw.asr.get(), 10)
                store.transact(lambda l: l.delete_service(IMSI))
                assert await env.app.sweep() == 2                    # the STa and SWm sessions
                assert (await gw.der(A.STA, gw.node.new_session_id(), b"")).result_code != c.SUCCESS
        run(go())
    decode = [tshark, "-r", str(pcap), "-d", f"tcp.port=={port},diameter", "-d", f"tcp.port=={hss_port},diameter"]
    bad = subprocess.run([*decode, "-Y", "_ws.malformed || _ws.expert.severity >= error"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 0 and bad.stdout.strip() == "", bad.stdout
    fields = subprocess.run([*decode, "-Y", "diameter", "-T", "fields", "-E", "occurrence=a", "-E", "separator=|",
                             "-e", "diameter.cmd.code", "-e", "diameter.flags.request",
                             "-e", "diameter.applicationId"],
                            check=False, capture_output=True, text=True, timeout=60)
    assert fields.returncode == 0, fields.stderr
    pairs = set()
    for line in fields.stdout.splitlines():
        cols = line.split("|")
        for cmd, req, app in zip(cols[0].split(","), cols[1].split(","), cols[2].split(","), strict=False):
            pairs.add((int(cmd), req in ("1", "True"), int(app)))
    expected = {(268, A.STA), (268, A.SWM), (265, A.SWM), (265, A.S6B), (275, A.S6B), (258, A.STA),
                (303, A.SWX), (301, A.SWX), (305, A.SWX), (304, A.SWX), (274, A.STA), (274, A.SWM)}
    for cmd, app in expected:
        assert (cmd, True, app) in pairs and (cmd, False, app) in pairs, (cmd, app, sorted(pairs))
