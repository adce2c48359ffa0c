"""The supervised process set: one supervisord (foreground) running ``appliance run ROLE``.

``appliance start`` writes ``<run_dir>/supervisord.conf`` from the configuration
and replaces itself with ``supervisord -n`` (so systemd's Type=simple sees the
supervisor's PID).  SIGTERM to supervisord stops every worker (each gets
``processes.stop_wait`` seconds to finish in-flight work); a worker that dies
is restarted.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from .config import Config
from .runtime import available_roles


def _instances(cfg: Config, role: str) -> int:
    p = cfg.processes
    counts = {"radius": p.radius if cfg.radius.enabled else 0,
              "diameter": p.diameter if cfg.diameter.enabled else 0,
              "rest": int(p.rest and cfg.rest.enabled), "snmp": int(p.snmp and cfg.snmp.enabled),
              "housekeeping": int(p.housekeeping),
              # one ledger per shard at most: each owns the shards it holds leases on
              "ledger": min(p.ledger, cfg.ledger.shards)}
    return counts.get(role, 1)


STOP_MARGIN = 2     # seconds beyond a worker's own bounded stop (interpreter exit, log flush)


def stop_wait_secs(cfg: Config) -> int:
    """supervisord's ``stopwaitsecs``: every worker bounds its graceful stop by ``processes.stop_wait``
    (the Diameter node's DPR/DPA wait included), so this is that plus a margin, never less."""
    return cfg.processes.stop_wait + STOP_MARGIN


def supervisor_conf(cfg: Config, python: str | None = None) -> str:
    run_dir = cfg.path(cfg.run_dir)
    log_dir = cfg.path(cfg.log_dir)
    python = python or sys.executable
    base = ["-m", "appliance"]
    if cfg.source:
        base += ["--config", str(Path(cfg.source).resolve())]
    lines = [
        "[supervisord]", "nodaemon=true", f"logfile={log_dir}/supervisord.log",
        f"pidfile={run_dir}/supervisord.pid", f"childlogdir={log_dir}", "logfile_maxbytes=10MB",
        "logfile_backups=5", "",
        "[unix_http_server]", f"file={run_dir}/supervisor.sock", "chmod=0700", "",
        "[supervisorctl]", f"serverurl=unix://{run_dir}/supervisor.sock", "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
    ]
    for role in available_roles():
        count = _instances(cfg, role)
        if count <= 0:
            continue
        cmd = " ".join(shlex.quote(x) for x in [python, *base, "run", role, "--index"])
        lines += [
            f"[program:{role}]",
            f"command={cmd} %(process_num)d",
            f"numprocs={count}",
            "process_name=%(program_name)s-%(process_num)d",
            f"directory={cfg.base_dir or os.getcwd()}",
            "autostart=true", "autorestart=true", "startsecs=1", "startretries=10",
            f"priority={10 if role == 'ledger' else 999}",       # the ledger starts first, stops last
            "stopsignal=TERM", f"stopwaitsecs={stop_wait_secs(cfg)}", "stopasgroup=true",
            "killasgroup=true", "redirect_stderr=true",
            f"stdout_logfile={log_dir}/{role}-%(process_num)d.log",
            "stdout_logfile_maxbytes=10MB", "stdout_logfile_backups=5", "",
        ]
    return "\n".join(lines)


def prepare(cfg: Config) -> Path:
    for d in (cfg.run_dir, cfg.log_dir, cfg.data_dir):
        cfg.path(d).mkdir(parents=True, exist_ok=True)
    conf = cfg.path(cfg.run_dir) / "supervisord.conf"
    conf.write_text(supervisor_conf(cfg))
    return conf


def supervisord_binary() -> str:
    local = Path(sys.executable).parent / "supervisord"
    if local.exists():
        return str(local)
    found = shutil.which("supervisord")
    if not found:
        raise SystemExit("appliance: supervisord not found (pip install supervisor)")
    return found


def exec_supervisor(cfg: Config) -> None:
    conf = prepare(cfg)
    binary = supervisord_binary()
    os.execv(binary, [binary, "-n", "-c", str(conf)])


def _supervisor_listening(sock_path: Path) -> bool:
    """Whether a supervisord answers on its control socket (a stale file from a killed one does not)."""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2.0)
    try:
        s.connect(str(sock_path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def supervisorctl(cfg: Config, *args: str) -> int:
    conf = cfg.path(cfg.run_dir) / "supervisord.conf"
    if not conf.exists() or not _supervisor_listening(cfg.path(cfg.run_dir) / "supervisor.sock"):
        print("appliance: not started", file=sys.stderr)
        return 3
    ctl = Path(sys.executable).parent / "supervisorctl"
    binary = str(ctl) if ctl.exists() else (shutil.which("supervisorctl") or "supervisorctl")
    return os.spawnv(os.P_WAIT, binary, [binary, "-c", str(conf), *args])
