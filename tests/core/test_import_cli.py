"""``appliance import``: the real command on a temporary configuration (CSV, JSON lines, stdin, bad
rows, a second import of the same file, a terminal's progress bar, 100,000 rows)."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

import pytest

from appliance.provision.rows import RowError, from_json, parse

K = "000102030405060708090a0b0c0d0e0f"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
BAD_K = "0123456789abcdef0123456789abcdeZ"        # one letter off: must not be echoed either


def run(tmp_path, *args, stdin=None, **kw):
    conf = tmp_path / "appliance.yaml"
    if not conf.exists():
        conf.write_text(f"data_dir: {tmp_path}/var\nrun_dir: {tmp_path}/run\nlog_dir: {tmp_path}/logs\n")
    if "stderr" not in kw:
        kw["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), *args], cwd=tmp_path,
                          input=stdin, text=True, timeout=300, **kw)


@pytest.fixture
def catalog(tmp_path):
    out = run(tmp_path, "offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000")
    assert out.returncode == 0, out.stderr
    return tmp_path


def services(tmp_path) -> dict[str, dict]:
    out = run(tmp_path, "service", "list")
    assert out.returncode == 0, out.stderr
    return {d["id"]: d for d in map(json.loads, out.stdout.splitlines())}


def buckets(tmp_path) -> list[dict]:
    out = run(tmp_path, "bucket", "list")
    return [json.loads(line) for line in out.stdout.splitlines()]


GOOD_CSV = (
    "id,offer,imsi,msisdn,nai,password,k,opc,money,octets\n"
    f"alice,data,001010000000001,+33612345678,alice@example.net,s3cret!,{K},{OPC},5000000,1000000000\n"
    "bob,data,001010000000002,,,,,,250,\n"
)


def test_csv_creates_services_products_and_balances_without_printing_secrets(catalog):
    (catalog / "subs.csv").write_text(GOOD_CSV)
    out = run(catalog, "import", "subs.csv")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["imported"], summary["products"], summary["buckets"], summary["skipped"]) == (2, 2, 3, 0)
    assert out.stderr == ""                          # stderr is not a terminal: no progress output
    found = services(catalog)
    assert found["alice"]["imsi"] == "001010000000001" and found["alice"]["msisdn"] == "33612345678"
    assert found["alice"]["nai"] == "alice@example.net" and found["alice"]["product"] == "alice"
    balance = json.loads(run(catalog, "balance", "33612345678").stdout)
    assert balance["totals"] == {"money": 5_000_000, "octets": 1_000_000_000}
    for text in (out.stdout, out.stderr, run(catalog, "service", "list").stdout):
        assert K not in text and OPC not in text and "s3cret!" not in text


def test_bad_rows_refuse_the_whole_file_naming_file_line_and_field(catalog):
    (catalog / "subs.csv").write_text(
        GOOD_CSV
        + f"carol,data,001010000000003,,,,{BAD_K},,,\n"     # line 4
        + "dave,nosuch,001010000000004,,,,,,,\n"            # line 5
        + "erin,data,001010000000001,,,,,,,\n"              # line 6: alice's IMSI
        + "frank,data,001010000000006,,,,,,1.5,\n"          # line 7: money is integers
        + "gina,,001010000000007,,,,,,,\n")                 # line 8: no offer, no product 'gina'
    out = run(catalog, "import", "subs.csv")
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert lines[:-1] == [
        "appliance: subs.csv: line 4: field 'k': must be 32 hex digits (128 bits)",
        "appliance: subs.csv: line 5: field 'offer': no such offer 'nosuch' in the catalog",
        "appliance: subs.csv: line 6: field 'imsi': 001010000000001 is already given to service 'alice' on line 2",
        "appliance: subs.csv: line 7: field 'money': must be a whole number from 0 to 9999999999999999 "
        "(ASCII digits), got '1.5'",
        "appliance: subs.csv: line 8: field 'product': no such product 'gina' (give an offer to create it)",
    ]
    assert lines[-1] == "appliance: subs.csv: 5 bad rows: nothing imported (--skip-bad imports the good ones)"
    assert BAD_K not in out.stderr
    assert services(catalog) == {}                    # nothing written, not even the good rows


def test_skip_bad_imports_the_good_rows_and_reports_the_others(catalog):
    (catalog / "subs.csv").write_text(GOOD_CSV + "carol,data,12,,,,,,,\n" + "dave,data,001010000000004,,,,,,7,\n")
    out = run(catalog, "import", "--skip-bad", "subs.csv")
    assert out.returncode == 0, out.stderr
    assert out.stderr == "appliance: subs.csv: line 4: field 'imsi': must be 5 to 15 digits, got '12'\n"
    summary = json.loads(out.stdout)
    assert (summary["imported"], summary["skipped"]) == (3, 1)
    assert set(services(catalog)) == {"alice", "bob", "dave"}


def test_json_lines_from_stdin_and_a_shared_product(catalog):
    rows = [{"id": "p-owner", "offer": "data", "imsi": "001010000000010", "money": 1000, "bucket_end": 4102444800},
            {"id": "p-member", "product": "p-owner", "msisdn": "15550001", "enabled": False},
            {"id": "sim", "offer": "data", "imsi": "001010000000011", "k": K, "opc": OPC, "sqn": 32}]
    out = run(catalog, "import", "-", stdin="".join(json.dumps(r) + "\n" for r in rows))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imported"] == 3
    found = services(catalog)
    assert found["p-member"]["product"] == "p-owner" and found["p-member"]["enabled"] is False
    assert found["sim"]["credentials"] == "Credentials(<k, opc set>, sqn=32)"
    assert [(b["product"], b["remaining"], b["end"]) for b in buckets(catalog)] == [("p-owner", 1000, 4102444800)]
    bad = run(catalog, "import", "-", stdin='{"id": "x", "offer": "data", "imsi": 1010000000001}\n{"id": }\n')
    assert bad.returncode == 1
    assert bad.stderr.splitlines()[:2] == [
        "appliance: stdin: line 1: field 'imsi': expected a string (identities keep their leading zeros)",
        "appliance: stdin: line 2: not JSON (Expecting value, column 8)"]


def test_importing_again_replaces_and_does_not_credit_twice(catalog):
    (catalog / "subs.csv").write_text(GOOD_CSV)
    assert run(catalog, "import", "subs.csv").returncode == 0
    (catalog / "subs.csv").write_text(GOOD_CSV.replace(",250,", ",300,").replace("s3cret!", "n3w"))
    out = run(catalog, "import", "subs.csv")
    assert out.returncode == 0, out.stderr
    assert sorted((b["product"], b["unit"], b["remaining"]) for b in buckets(catalog)) == [
        ("alice", "money", 5_000_000), ("alice", "octets", 1_000_000_000), ("bob", "money", 300)]
    assert set(services(catalog)) == {"alice", "bob"}


def test_an_identity_of_another_service_in_the_store_is_refused(catalog):
    assert run(catalog, "product", "add", "p9", "--offer", "data").returncode == 0
    assert run(catalog, "service", "add", "old", "--product", "p9", "--imsi", "001010000000002").returncode == 0
    (catalog / "subs.csv").write_text(GOOD_CSV)
    out = run(catalog, "import", "subs.csv")
    assert out.returncode == 1
    assert out.stderr.splitlines()[0] == ("appliance: subs.csv: line 3: field 'imsi': 001010000000002 belongs to "
                                          "service 'old' in the store")
    assert set(services(catalog)) == {"old"}


def test_header_errors_name_the_column(catalog):
    (catalog / "subs.csv").write_text("id,offer,colour\nx,data,red\n")
    out = run(catalog, "import", "subs.csv")
    assert out.returncode == 1
    assert out.stderr.startswith("appliance: subs.csv: line 1: column 3: unknown field 'colour'")


def test_progress_bar_on_a_terminal(catalog):
    (catalog / "subs.csv").write_text("id,offer,money\n" + "".join(f"s{n},data,{n}\n" for n in range(12_000)))
    master, slave = pty.openpty()
    try:
        out = run(catalog, "import", "--batch", "1000", "subs.csv", stderr=slave, stdout=subprocess.PIPE)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert out.returncode == 0
    text = shown.decode()
    assert "12,000/12,000 imported" in text and "/s" in text and "ETA" in text and "12,000 checked" in text
    assert json.loads(out.stdout)["imported"] == 12_000


def test_one_hundred_thousand_rows(catalog, capsys):
    with open(catalog / "subs.csv", "w") as f:
        f.write("id,offer,imsi,msisdn,k,opc,money,octets\n")
        for n in range(100_000):
            f.write(f"sub{n},data,00101{n:010d},3361{n:08d},{n:032x},{n * 7:032x},5000000,1000000000\n")
    t0 = time.perf_counter()
    out = run(catalog, "import", "subs.csv")
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["imported"] == 100_000 and summary["buckets"] == 200_000
    with capsys.disabled():
        print(f"\n100,000 subscribers imported in {elapsed:.2f} s ({100_000 / elapsed:,.0f}/s for the command; "
              f"{summary['per_second']:,}/s by its summary, {summary['checking_seconds']} s checking)")


# --- rows as data: what a row says, and what is wrong with a bad one
@pytest.mark.parametrize("row,field,fragment", [
    ({"offer": "data"}, "id", "required"),
    ({"id": "a b", "offer": "data"}, "id", "no space"),
    ({"id": "a", "offer": "data", "imsi": "0010100000000012"}, "imsi", "5 to 15 digits"),
    ({"id": "a", "offer": "data", "msisdn": "33-6"}, "msisdn", "E.164"),
    ({"id": "a", "offer": "data", "opc": "00"}, "opc", "32 hex digits"),
    ({"id": "a", "offer": "data", "amf": "80000"}, "amf", "4 hex digits"),
    ({"id": "a", "offer": "data", "sqn": "-1"}, "sqn", "whole number"),
    ({"id": "a", "offer": "data", "sqn": str(1 << 48)}, "sqn", "whole number"),
    ({"id": "a", "offer": "data", "octets": "١٢"}, "octets", "ASCII digits"),
    ({"id": "a", "offer": "data", "money": "10000000000000000"}, "money", "whole number"),
    ({"id": "a", "offer": "data", "enabled": "maybe"}, "enabled", "true or false"),
    ({"id": "a", "offer": "data", "end": "tomorrow"}, "end", "ISO 8601"),
    ({"id": "a", "start": "0"}, "start", "give its offer"),
    ({"id": "a", "offer": "data", "bucket_end": "1"}, "bucket_end", "no balance"),
    ({"id": "a", "offer": "other"}, "offer", "no such offer"),
])
def test_bad_rows(row, field, fragment):
    with pytest.raises(RowError) as err:
        parse(row, {"data"})
    assert err.value.field == field and fragment in str(err.value)


def test_a_row_parsed():
    sub = parse(from_json({"id": "a", "offer": "data", "msisdn": "+15550001", "k": K, "opc": OPC, "amf": "0001",
                           "sqn": 5, "money": 100, "seconds": "60", "end": "2030-01-01T00:00:00Z",
                           "bucket_end": 1_900_000_000, "password": " pw "}), {"data"})
    assert sub.service.msisdn == "15550001" and sub.service.credentials.k == bytes.fromhex(K)
    assert sub.service.credentials.password == " pw " and sub.service.credentials.amf == b"\x00\x01"
    assert sub.product is not None and sub.product.end == 1_893_456_000
    assert [(b.unit.value, b.remaining, b.end, b.name) for b in sub.buckets] == [
        ("money", 100, 1_900_000_000, "initial"), ("seconds", 60, 1_900_000_000, "initial")]
    with pytest.raises(RowError, match="whole number"):
        from_json({"id": "a", "money": 1.5})
    with pytest.raises(RowError, match="unknown field"):
        from_json({"id": "a", "colour": "red"})


def test_a_file_too_long_to_keep_parsed_is_read_again(catalog, monkeypatch, capsys):
    """Past KEEP_PARSED rows the checked file is parsed a second time to be written (in-process)."""
    from appliance import cli
    from appliance.provision import cli as provision
    monkeypatch.setattr(provision, "KEEP_PARSED", 10)
    (catalog / "subs.csv").write_text("id,offer,money\n" + "".join(f"s{n},data,{n}\n" for n in range(57)))
    assert cli.main(["--config", str(catalog / "appliance.yaml"), "import", "--batch", "8",
                     str(catalog / "subs.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 57
    assert sorted(b["remaining"] for b in buckets(catalog)) == list(range(57))
