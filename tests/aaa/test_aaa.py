"""STa, SWm, SWx and S6b over real TCP between separate Diameter nodes (TS 29.273)."""
from __future__ import annotations

import asyncio

import pytest

from appliance.diameter import codec as c
from appliance.diameter.apps import aaa as A
from appliance.diameter.apps import swx as X
from appliance.eap import aka_codec as ac

from .conftest import HSS_IMSI, HSS_REALM, IMSI, LOCAL_REALM, provision, run, ue

V = c.VENDOR_3GPP


def session(store, sid):
    return store.transact(lambda l: l.get_doc(A.SESSION_KIND, sid))


def test_sta_der_eap_aka_prime_then_str(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            sid = env.gw.node.new_session_id("sta")
            terminal = ue(ac.AKA_PRIME)
            dea, rounds = await env.gw.eap(A.STA, sid, terminal, anid="WLAN")
            assert dea.result_code == c.SUCCESS and rounds == 2
            assert dea.app_id == A.STA and dea.find(c.AUTH_APPLICATION_ID).u32 == A.STA
            assert dea.find(464).data == terminal.msk and len(terminal.msk) == 64
            assert terminal.result == "success"
            assert dea.find(1).text == f"6{IMSI}@{LOCAL_REALM}"
            assert dea.find(1503, V).u32 == A.TRUSTED
            doc = session(store, sid)
            assert doc["imsi"] == IMSI and doc["peer_host"] == "twan.test" and doc["state"] == "open"
            sta_ = await env.gw.str_(A.STA, sid)
            assert sta_.result_code == c.SUCCESS and session(store, sid) is None
            assert (await env.gw.str_(A.STA, sid)).result_code == c.UNKNOWN_SESSION_ID
    run(go())


def test_swm_der_eap_aka_then_aar(aaa_env, store):
    provision(store, apn="ims")

    async def go():
        async with aaa_env() as env:
            sid = env.gw.node.new_session_id("swm")
            terminal = ue(ac.AKA)
            dea, _ = await env.gw.eap(A.SWM, sid, terminal)
            assert dea.result_code == c.SUCCESS and dea.find(464).data == terminal.msk
            assert dea.find(493).text == "ims"                      # APN from the subscription
            aaa = await env.gw.aar(A.SWM, sid)
            assert aaa.result_code == c.SUCCESS and aaa.find(493).text == "ims"
            assert aaa.find(274).u32 == A.AUTHORIZE_ONLY
            unknown = await env.gw.aar(A.SWM, "twan.test;1;unknown")
            assert unknown.result_code == A.USER_UNKNOWN and unknown.find(c.EXPERIMENTAL_RESULT) is not None
    run(go())


def test_wrong_key_and_unknown_subscriber_are_rejected(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            dea, _ = await env.gw.eap(A.STA, env.gw.node.new_session_id(), ue(k=bytes(16)), anid="WLAN")
            assert dea.result_code == A.AUTHENTICATION_REJECTED and dea.find(462).data[0] == 4   # EAP-Failure
            stranger = ue(imsi="001019999999999")
            dea, _ = await env.gw.eap(A.STA, env.gw.node.new_session_id(), stranger, anid="WLAN")
            assert dea.result_code == A.AUTHENTICATION_REJECTED and stranger.notifications == [ac.GENERAL_FAILURE]
    run(go())


def test_resynchronisation_over_diameter(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            terminal = ue(sqn=1 << 20)
            dea, rounds = await env.gw.eap(A.STA, env.gw.node.new_session_id(), terminal, anid="WLAN")
            assert dea.result_code == c.SUCCESS and rounds == 3 and dea.find(464).data == terminal.msk
    run(go())


def test_swx_vectors_from_the_hss_with_resync_and_registration(aaa_env, store):
    async def go():
        async with aaa_env() as env:
            terminal = ue(ac.AKA_PRIME, imsi=HSS_IMSI, realm=HSS_REALM, sqn=5000)     # USIM ahead of the HSS
            sid = env.gw.node.new_session_id("sta-hss")
            dea, rounds = await env.gw.eap(A.STA, sid, terminal, anid="WLAN")
            assert dea.result_code == c.SUCCESS and rounds == 3 and dea.find(464).data == terminal.msk
            assert len(env.hss.mar) == 2                                 # first vector, then the resync MAR
            first, second = env.hss.mar
            item = {(a.code, a.vendor): a.data for a in first.find(X.SIP_AUTH_DATA_ITEM, V).group()}
            assert item[(X.SIP_AUTH_SCHEME, V)] == b"EAP-AKA'" and first.find(X.ANID, V).data == b"WLAN"
            assert first.find(1).text == HSS_IMSI and first.find(X.SIP_NUMBER_AUTH_ITEMS, V).u32 == 1
            item2 = {(a.code, a.vendor): a.data for a in second.find(X.SIP_AUTH_DATA_ITEM, V).group()}
            assert len(item2[(X.SIP_AUTHORIZATION, V)]) == 30            # RAND || AUTS
            assert env.hss.subscribers[HSS_IMSI][2] > 5000
            assert len(env.hss.sar) == 1 and env.hss.sar[0].find(X.SERVER_ASSIGNMENT_TYPE, V).u32 == X.REGISTRATION
            assert dea.find(493).text == "internet.hss"                   # from Non-3GPP-User-Data
            assert session(store, sid)["hss"] is True
            # the HSS pushes a new profile (PPR) and the next AAR sees it
            ppa = await env.hss.push_profile(HSS_IMSI, "corporate")
            assert ppa.result_code == c.SUCCESS and session(store, sid)["profile"]["apn"] == "corporate"
            # a user the HSS does not know: MAA 5001 -> EAP failure
            dea, _ = await env.gw.eap(A.STA, env.gw.node.new_session_id(),
                                      ue(ac.AKA_PRIME, imsi="001020000000099", realm=HSS_REALM), anid="WLAN")
            assert dea.result_code == A.AUTHENTICATION_REJECTED
    run(go())


def test_s6b_aar_then_str(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            sid = env.pgw.node.new_session_id("s6b")
            unknown = await env.pgw.aar(A.S6B, sid, user=f"0001019999999999@{LOCAL_REALM}", apn="internet")
            assert unknown.result_code == A.USER_UNKNOWN
            aaa = await env.pgw.aar(A.S6B, sid, user=f"0{IMSI}@{LOCAL_REALM}", apn="internet", pgw="pgw-1.epc")
            assert aaa.result_code == c.SUCCESS and aaa.find(493).text == "internet"
            doc = session(store, sid)
            assert doc["pgw_host"] == "pgw-1.epc" and doc["apn"] == "internet" and doc["app"] == A.S6B
            assert (await env.pgw.str_(A.S6B, sid)).result_code == c.SUCCESS and session(store, sid) is None
    run(go())


def test_asr_when_the_subscriber_is_deleted_and_rar(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env(sweep_interval=0.05) as env:
            sta_sid = env.gw.node.new_session_id("sta")
            dea, _ = await env.gw.eap(A.STA, sta_sid, ue(), anid="WLAN")
            assert dea.result_code == c.SUCCESS
            s6b_sid = env.pgw.node.new_session_id("s6b")
            assert (await env.pgw.aar(A.S6B, s6b_sid, user=f"6{IMSI}@{LOCAL_REALM}")).result_code == c.SUCCESS
            assert await env.app.reauthorize(sta_sid, session(store, sta_sid)) == c.SUCCESS
            rar = await asyncio.wait_for(env.gw.rar.get(), 10)
            assert rar.session_id == sta_sid and rar.find(285).u32 == 0
            assert env.gw.asr.empty() and env.pgw.asr.empty()
            store.transact(lambda l: l.delete_service(IMSI))             # the subscription is removed
            asr_gw = await asyncio.wait_for(env.gw.asr.get(), 10)
            asr_pgw = await asyncio.wait_for(env.pgw.asr.get(), 10)
            assert asr_gw.session_id == sta_sid and asr_gw.app_id == A.STA
            assert asr_pgw.session_id == s6b_sid and asr_pgw.app_id == A.S6B
            assert asr_gw.find(c.DESTINATION_HOST).text == "twan.test"
            for _ in range(200):
                if session(store, sta_sid) is None and session(store, s6b_sid) is None:
                    break
                await asyncio.sleep(0.01)
            assert session(store, sta_sid) is None and session(store, s6b_sid) is None
    run(go())


def test_an_operators_abort_request_is_sent_as_asr_by_the_owning_worker(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            kept, ended = env.gw.node.new_session_id("sta"), env.pgw.node.new_session_id("s6b")
            assert (await env.gw.eap(A.STA, kept, ue(), anid="WLAN"))[0].result_code == c.SUCCESS
            assert (await env.pgw.aar(A.S6B, ended, user=f"6{IMSI}@{LOCAL_REALM}")).result_code == c.SUCCESS
            assert await env.app.sweep() == 0                            # the subscriber is usable
            assert store.transact(lambda l: A.Aaa.request_abort(l, "no-such;1", "op", 1)) is None
            doc = store.transact(lambda l: A.Aaa.request_abort(l, ended, "operator abort", 1_800_000_000))
            assert doc["abort_requested"] == {"at": 1_800_000_000, "reason": "operator abort"}
            assert env.pgw.asr.empty()
            assert await env.app.sweep() == 1
            asr = await asyncio.wait_for(env.pgw.asr.get(), 10)
            assert asr.session_id == ended and asr.app_id == A.S6B
            assert asr.find(c.DESTINATION_HOST).text == "pgw.test"
            assert session(store, ended) is None                         # the ASA was positive
            assert session(store, kept)["state"] == "open" and env.gw.asr.empty()
            assert await env.app.sweep() == 0
    run(go())


def test_rtr_from_the_hss_aborts_the_sessions(aaa_env, store):
    async def go():
        async with aaa_env() as env:
            sid = env.gw.node.new_session_id("swm-hss")
            dea, _ = await env.gw.eap(A.SWM, sid, ue(ac.AKA, imsi=HSS_IMSI, realm=HSS_REALM))
            assert dea.result_code == c.SUCCESS
            assert (await env.app.sweep()) == 0                          # HSS users are not swept
            rta = await env.hss.deregister(HSS_IMSI)
            assert rta.result_code == c.SUCCESS
            asr = await asyncio.wait_for(env.gw.asr.get(), 10)
            assert asr.session_id == sid and asr.app_id == A.SWM
            assert (await env.hss.deregister("001020000000077")).result_code == A.USER_UNKNOWN
    run(go())


def test_bad_requests_get_protocol_errors(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            gw = env.gw
            sid = gw.node.new_session_id()
            no_payload = await gw.node.request(A.CMD_DE, A.STA, gw.head(A.STA, sid) + [c.encode_avp(274, 3)],
                                               host="aaa.test")
            assert no_payload.result_code == c.MISSING_AVP and no_payload.find(c.FAILED_AVP) is not None
            garbage = await gw.der(A.STA, gw.node.new_session_id(), b"\x02\x01\x00\x09\x01abcd\xff\xff")
            assert garbage.result_code in (c.INVALID_AVP_VALUE, A.MULTI_ROUND_AUTH, A.AUTHENTICATION_REJECTED)
            wrong_type = await gw.node.request(A.CMD_AA, A.S6B, gw.head(A.S6B, sid) + [c.encode_avp(274, 3)],
                                               host="aaa.test")
            assert wrong_type.result_code == c.INVALID_AVP_VALUE
            no_user = await gw.aar(A.S6B, sid)
            assert no_user.result_code == c.MISSING_AVP
    run(go())


def test_settings_from_configuration_shapes():
    from types import SimpleNamespace as N

    conf = A.settings_of(N(aaa={"network_name": "HRPD", "sweep_interval": 2,
                               "realms": [{"realm": "*.mnc002.mcc001.3gppnetwork.org", "vectors": "hss",
                                           "hss_realm": "hss.realm"}]}))
    assert conf.network_name == "HRPD" and conf.sweep_interval == 2
    assert conf.realms == (A.AaaRealm("*.mnc002.mcc001.3gppnetwork.org", "hss", "", "hss.realm"),)
    assert A.settings_of(N()) == A.AaaSettings()
    with pytest.raises(ValueError):
        A.AaaRealm("x", "somewhere")
    with pytest.raises(ValueError):
        A.AaaRealm("x", "hss")
    assert A.imsi_of("0001010000000001@realm") == "001010000000001"
    assert A.imsi_of("001010000000001") == "001010000000001"
    assert A.imsi_of("6001010000000001") == "001010000000001"


def test_fast_reauthentication_over_sta_uses_the_stored_context(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            terminal = ue(ac.AKA_PRIME)
            first, _ = await env.gw.eap(A.STA, env.gw.node.new_session_id(), terminal, anid="WLAN")
            assert first.result_code == c.SUCCESS and terminal.reauth_id
            msk = terminal.msk
            again, rounds = await env.gw.eap(A.STA, env.gw.node.new_session_id(), terminal, anid="WLAN")
            assert again.result_code == c.SUCCESS and rounds == 2 and terminal.counter == 1
            assert again.find(464).data == terminal.msk != msk
            assert again.find(1).text == f"6{IMSI}@{LOCAL_REALM}"         # the permanent identity, not the re-auth id
    run(go())


def test_unanswered_asr_is_retried_then_the_session_forgotten(aaa_env, store):
    provision(store)

    async def go():
        async with aaa_env() as env:
            clock = [1_000_000.0]
            env.app.clock = lambda: clock[0]
            sid = env.gw.node.new_session_id("sta")
            assert (await env.gw.eap(A.STA, sid, ue(), anid="WLAN"))[0].result_code == c.SUCCESS
            await env.gw.node.stop(1)                                    # the TWAN goes away
            store.transact(lambda l: l.delete_service(IMSI))
            assert await env.app.sweep() == 1                             # ASR fails: no connection
            assert session(store, sid)["state"] == "aborting"
            assert await env.app.sweep() == 0                             # not before ASR_RETRY
            for attempt in (2, 3):
                clock[0] += A.ASR_RETRY
                assert await env.app.sweep() == 1
                assert session(store, sid)["asr_attempts"] == attempt
            clock[0] += A.ASR_RETRY
            assert await env.app.sweep() == 0 and session(store, sid) is None
    run(go())


def test_aaa_section_in_the_yaml_configuration(tmp_path):
    from appliance.config import ConfigError, load
    from appliance.eap.aka import settings_from
    good = tmp_path / "a.yaml"
    good.write_text("aaa:\n  network_name: HRPD\n  identity_request: permanent\n  realms:\n"
                    "    - {realm: '*.mnc002.mcc001.3gppnetwork.org', vectors: hss, hss_realm: hss.example}\n")
    cfg = load(str(good))
    conf = A.settings_of(cfg)
    assert conf.network_name == "HRPD" and conf.realms[0] == A.AaaRealm("*.mnc002.mcc001.3gppnetwork.org", "hss",
                                                                         "", "hss.example")
    assert settings_from(cfg).identity_request == "permanent"
    bad = tmp_path / "b.yaml"
    bad.write_text("aaa:\n  realms:\n    - {realm: x, vectors: hss}\n")
    with pytest.raises(ConfigError, match="aaa.realms"):
        load(str(bad))
