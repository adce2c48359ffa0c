"""The real `appliance run diameter` worker process: a Gx session outlives a SIGKILLed worker."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from appliance.diameter import codec as c
from appliance.ocs.policy import PolicyRule, RuleKind
from appliance.pcrf import engine as E
from appliance.pcrf import tables as T

from ..conftest import free_port
from .pcef import Pcef, installed
from .test_gx import IMSI, provision


def write_config(cfg, port):
    path = cfg.path("appliance.yaml")
    path.write_text(f"""data_dir: {cfg.path(cfg.data_dir)}
run_dir: {cfg.path(cfg.run_dir)}
log_dir: {cfg.path(cfg.log_dir)}
node: {{host: pcrf.test, realm: test}}
diameter:
  address: 127.0.0.1
  port: {port}
  applications: [gx]
  peers: [{{host: pcef.test}}]
pcrf: {{push_interval: 0.1, rar_timeout: 3.0}}
""")
    return str(path)


def start_worker(conf):
    return subprocess.Popen([sys.executable, "-m", "appliance", "--config", conf, "run", "diameter"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})


async def connect(pcef, port, proc):
    for _ in range(1200):                      # until the worker listens (bounded: 60 s on a loaded machine)
        assert proc.poll() is None, proc.stderr.read()
        try:
            await pcef.connect(port)
            return
        except (OSError, AssertionError):
            await asyncio.sleep(0.05)
    raise AssertionError("worker did not come up")


def test_gx_session_survives_killed_worker_process(cfg, store):
    provision(store)
    port = free_port()
    conf = write_config(cfg, port)
    sid = "pcef.test;42;1"

    async def go():
        worker = start_worker(conf)
        try:
            pcef = Pcef()
            await connect(pcef, port, worker)
            cca = await pcef.initial(sid, imsi=IMSI)
            assert cca.result_code == c.SUCCESS and "web" in installed(cca)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            await pcef.stop()
        finally:
            if worker.poll() is None:
                worker.kill()
        assert store.transact(lambda l: E.load_session(l, sid)) is not None
        worker = start_worker(conf)
        try:
            pcef = Pcef()
            await connect(pcef, port, worker)
            cca = await pcef.usage_report(sid, 1, "mk1", 100)       # the new worker knows the session
            assert cca.result_code == c.SUCCESS
            store.transact(lambda l: T.put_rule(l, "gold", PolicyRule("after-kill", RuleKind.PREDEFINED)))
            rar = await pcef.next_rar()                               # pushed by the new worker
            assert rar.session_id == sid and list(installed(rar)) == ["after-kill"]
            for _ in range(300):
                s = store.transact(lambda l: E.load_session(l, sid))
                if s.last_raa:
                    break
                await asyncio.sleep(0.02)
            assert s.last_raa["result"] == 2001 and "after-kill" in s.installed
            assert (await pcef.terminate(sid, 2)).result_code == c.SUCCESS
            await pcef.stop()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(20) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
    asyncio.run(asyncio.wait_for(go(), 90))
