"""The codec runs compiled where it is built and interpreted where it is not: the same tests pass
both ways.  The interpreted run is a subprocess with ``APPLIANCE_PURE_PYTHON=1`` over the codec and
application tests that start no process (a few seconds)."""
from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.diameter import _source_spec
from appliance.diameter import codec as c

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "appliance" / "diameter"
# The codec's own tests and the socket-free tests of what reads it (peer, Ro answers, Gx codec).
BOTH_WAYS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "diameter").glob("test_codec*.py")
                   if p.name != "test_codec_build.py") + [
    "tests/diameter/test_peer.py", "tests/diameter/test_malformed.py", "tests/diameter/test_ro_answers.py",
    "tests/diameter/test_ro_codec.py", "tests/diameter/test_request_checks.py", "tests/pcrf/test_gx_codec.py"]


def _built(here: Path = HERE, name: str = "codec") -> list[Path]:
    return [here / f"{name}{s}" for s in importlib.machinery.EXTENSION_SUFFIXES if (here / f"{name}{s}").exists()]


def test_the_interpreted_codec_passes_the_codec_and_application_tests():
    env = dict(os.environ, APPLIANCE_PURE_PYTHON="1")
    probe = subprocess.run([sys.executable, "-c", "from appliance.diameter import codec; from appliance.diameter."
                            "apps import ro_codec; print(codec.COMPILED, ro_codec.COMPILED, codec.__file__, "
                            "ro_codec.__file__)"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert probe.stdout.startswith("False False ") and probe.stdout.strip().endswith("ro_codec.py"), probe
    assert " " + str(HERE / "codec.py") + " " in probe.stdout, probe
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *BOTH_WAYS], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_a_built_extension_is_the_one_imported():
    built = _built()
    if not built:
        if os.environ.get("CI"):
            pytest.fail("CI installs with a compiler (pip install -e .): the codec extension was not built")
        pytest.skip("no compiled codec in this checkout (pip install -e . builds it)")
    stale = (HERE / "codec.py").stat().st_mtime > min(b.stat().st_mtime for b in built) + 2
    assert c.COMPILED is (not stale and os.environ.get("APPLIANCE_PURE_PYTHON", "") in ("", "0"))


def test_a_built_ro_codec_is_the_one_imported():
    from appliance.diameter.apps import ro_codec
    built = _built(HERE / "apps", "ro_codec")
    if not built:
        if os.environ.get("CI"):
            pytest.fail("CI installs with a compiler (pip install -e .): the Ro codec extension was not built")
        pytest.skip("no compiled Ro codec in this checkout (pip install -e . builds it)")
    stale = (HERE / "apps" / "ro_codec.py").stat().st_mtime > min(b.stat().st_mtime for b in built) + 2
    assert ro_codec.COMPILED is (not stale and os.environ.get("APPLIANCE_PURE_PYTHON", "") in ("", "0"))


def test_a_source_newer_than_its_build_is_imported_instead(tmp_path, monkeypatch):
    """A checkout edited after its last build runs the edited source, never the stale extension."""
    source = tmp_path / "codec.py"
    source.write_text("")
    assert _source_spec("appliance.diameter.codec", str(tmp_path)) is None        # nothing built
    built = tmp_path / f"codec{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    built.write_bytes(b"")
    now = source.stat().st_mtime
    os.utime(built, (now - 60, now - 60))                                          # built before the edit
    monkeypatch.delenv("APPLIANCE_PURE_PYTHON", raising=False)
    spec = _source_spec("appliance.diameter.codec", str(tmp_path))
    assert spec is not None and spec.origin == str(source)
    os.utime(built, (now + 1, now + 1))                                            # rebuilt
    assert _source_spec("appliance.diameter.codec", str(tmp_path)) is None
    monkeypatch.setenv("APPLIANCE_PURE_PYTHON", "1")
    assert _source_spec("appliance.diameter.codec", str(tmp_path)).origin == str(source)
