"""Real clients for the RADIUS tests: radclient (FreeRADIUS) and pyrad."""
from __future__ import annotations

import subprocess

from pyrad.client import Client
from pyrad.dictionary import Dictionary

from appliance.radius import DICTIONARY
from tests.conftest import need_binary

from .conftest import SECRET

_DICT = None


def dictionary() -> Dictionary:
    global _DICT
    if _DICT is None:
        _DICT = Dictionary(str(DICTIONARY))
    return _DICT


def pyrad_client(cfg, secret: str = SECRET) -> Client:
    c = Client(server="127.0.0.1", authport=cfg.radius.auth_port, acctport=cfg.radius.acct_port,
               secret=secret.encode(), dict=dictionary())
    c.timeout, c.retries = 3, 2
    return c


def radclient(port: int, command: str, attrs: str, secret: str = SECRET, host: str = "127.0.0.1") -> str:
    """Run radclient once; returns its output (it prints the reply with -x)."""
    exe = need_binary("radclient")
    res = subprocess.run([exe, "-x", "-r", "2", "-t", "3", f"{host}:{port}", command, secret],
                         check=False, input=attrs, capture_output=True, text=True, timeout=30)
    return res.stdout + res.stderr
