"""The Gx exchange as Wireshark sees it: a capture on lo decoded by tshark, zero malformed."""
from __future__ import annotations

import asyncio
import dataclasses
import subprocess

from appliance.config import PcrfConfig
from appliance.diameter import codec as c
from appliance.ocs.policy import PolicyRule, RuleKind
from appliance.pcrf import tables as T

from ..capture import Capture
from ..conftest import free_port, need_binary
from .pcef import Pcef, start_pcrf
from .test_gx import IMSI, provision


def test_gx_capture_decodes_without_malformed_packets(cfg, store, tmp_path):
    tshark = need_binary("tshark")
    gxcfg = dataclasses.replace(cfg, pcrf=PcrfConfig(push_interval=0.05))
    provision(store)
    port = free_port()
    pcap = tmp_path / "gx.pcapng"
    with Capture(pcap, port):               # leaves once everything sent is in the file
        async def go():
            node, app, bound = await start_pcrf(gxcfg, store, port)
            pcef = Pcef()
            await pcef.connect(bound)
            sid = "pcef.test;9;1"
            assert (await pcef.initial(sid, imsi=IMSI)).result_code == c.SUCCESS
            assert (await pcef.usage_report(sid, 1, "mk1", 2_000)).result_code == c.SUCCESS
            store.transact(lambda l: T.put_rule(l, "gold", PolicyRule("later", RuleKind.BASE)))
            app.poke()
            await pcef.next_rar()
            assert (await pcef.initial("pcef.test;9;2", imsi="999990000000000")).result_code == 5030
            assert (await pcef.initial("pcef.test;9;3")).result_code == 5140
            for _ in range(1000):                    # the RAA is recorded after it is answered
                s = store.transact(lambda l: l.get_doc(T.KIND_SESSION, sid))
                if s["last_raa"]:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the RAA was never recorded")
            assert (await pcef.terminate(sid, 2)).result_code == c.SUCCESS
            await pcef.stop()
            await node.stop(1)
        asyncio.run(asyncio.wait_for(go(), 60))
    decode = [tshark, "-r", str(pcap), "-d", f"tcp.port=={port},diameter"]
    bad = subprocess.run([*decode, "-Y", "_ws.malformed || _ws.expert.severity >= error"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 0 and bad.stdout.strip() == "", bad.stdout
    fields = subprocess.run([*decode, "-Y", "diameter", "-T", "fields", "-E", "occurrence=a", "-E", "separator=|",
                             "-e", "diameter.cmd.code", "-e", "diameter.flags.request",
                             "-e", "diameter.Result-Code", "-e", "diameter.Experimental-Result-Code",
                             "-e", "diameter.Charging-Rule-Name", "-e", "diameter.Flow-Description",
                             "-e", "diameter.Monitoring-Key"],
                            capture_output=True, text=True, timeout=60)
    assert fields.returncode == 0, fields.stderr
    rows = [line.split("|") for line in fields.stdout.splitlines()]
    # a frame may carry several messages: its fields are then comma-separated
    commands = [pair for r in rows for pair in zip(r[0].split(","), r[1].split(","))]
    # CER/CEA, CCR-I/CCA, CCR-U/CCA, RAR/RAA, 2 failed CCR-I/CCA, CCR-T/CCA, DPR/DPA at least
    assert commands.count(("272", "1")) == 5 and commands.count(("272", "0")) == 5
    assert commands.count(("258", "1")) == 1 and commands.count(("258", "0")) == 1
    cca_i = next(r for r in rows if r[0] == "272" and r[1] == "0")
    assert cca_i[2] == "2001" and b"web".hex() in cca_i[4] and "permit out 6 from any 80 to any" in cca_i[5]
    assert b"mk1".hex() in cca_i[6]
    assert any(r[3] == "5140" for r in rows) and any(r[2] == "5030" for r in rows)
