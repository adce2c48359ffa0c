"""Accounting records shaped exactly as the RADIUS and Diameter front ends log them (docs/logs.md)."""
from __future__ import annotations

DAY = 86_400
D0 = 1_795_392_000          # 2026-11-23T00:00:00Z
US = 1_000_000


def radius_session(t0: int, sid: str = "rad-1", user: str = "alice@example.net", octets=(1_000_000, 2_000_000),
                   seconds: int = 300, charged=(0, 20_000, 40_000)) -> list[dict]:
    """Accounting Start, Interim-Update, Stop (RFC 2866) as the RADIUS worker logs them."""
    base = {"protocol": "radius", "app": "acct", "type": "Accounting-Request", "peer": "127.0.0.1:40211",
            "session_id": sid, "subscriber": "001010000000001", "username": user, "nas_ip": "127.0.0.1",
            "nas_id": "ap1", "nas_port_type": "Wireless-802.11", "calling_station_id": "02-00-00-00-00-01",
            "called_station_id": "AP1:corp", "framed_ip": "10.0.0.7", "service": "data",
            "result": "Accounting-Response", "outcome": "success"}
    half = (octets[0] // 2, octets[1] // 2)
    return [
        {**base, "ts": t0 * US, "request_type": "start", "charged": charged[0],
         "units": [{"unit": "octets", "requested": 0, "used": 0, "granted": 1_048_576, "charged": 0}]},
        {**base, "ts": (t0 + seconds // 2) * US, "request_type": "interim", "session_time": seconds // 2,
         "input_octets": half[0], "output_octets": half[1], "charged": charged[1],
         "units": [{"unit": "octets", "used": sum(half), "debited": sum(half), "charged": charged[1]}]},
        {**base, "ts": (t0 + seconds) * US, "request_type": "stop", "session_time": seconds,
         "input_octets": octets[0], "output_octets": octets[1], "terminate_cause": "User-Request",
         "charged": charged[2],
         "units": [{"unit": "octets", "used": sum(octets) - sum(half), "debited": sum(octets) - sum(half),
                    "charged": charged[2]}]},
    ]


def ro_session(t0: int, sid: str = "pgw.example.net;1;7", service: str = "data", unit: str = "octets",
               used=(0, 500_000, 250_000), charged=(0, 10_000, 5_000), destination: str | None = None) -> list[dict]:
    """Ro CCR-I, CCR-U, CCR-T (RFC 4006 §8.3) as the Diameter worker logs them."""
    base = {"protocol": "diameter", "app": "ro", "type": "CCR", "peer": "pgw.example.net",
            "peer_address": "127.0.0.1:3868", "origin_realm": "example.net", "session_id": sid,
            "subscriber": "001010000000001", "imsi": "001010000000001", "msisdn": "14155550001",
            "service": service, "destination": destination, "result": 2001, "outcome": "success"}
    kinds = ("initial", "update", "termination")
    return [{**base, "ts": (t0 + 60 * i) * US, "request_type": k, "request_number": i, "charged": charged[i],
             "units": [{"unit": unit, "rating_group": 32, "requested": 0 if k != "termination" else None,
                        "used": used[i], "granted": 0 if k == "termination" else 1000, "charged": charged[i]}]}
            for i, k in enumerate(kinds)]


def sms_event(t0: int) -> dict:
    return {"protocol": "diameter", "app": "ro", "type": "CCR", "request_type": "event", "session_id": "sms-1",
            "subscriber": "001010000000001", "service": "sms", "ts": t0 * US, "charged": 5_000, "result": 2001}
