"""The ctypes TLS exporter gives both ends the same keying material (TLS 1.2 and 1.3), and refuses early."""
from __future__ import annotations

import ssl

import pytest

from appliance.config import Config
from appliance.eap.tlsexport import ExporterUnavailable, export_keying_material
from appliance.tls import ensure_certificate


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_both_ends_agree(tmp_path, version):
    cert, key = ensure_certificate(Config(data_dir=str(tmp_path), base_dir=str(tmp_path)))
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(str(cert), str(key))
    sctx.maximum_version = version
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname, cctx.verify_mode = False, ssl.CERT_NONE
    si, so, ci, co = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    server, client = sctx.wrap_bio(si, so, server_side=True), cctx.wrap_bio(ci, co)
    with pytest.raises(ExporterUnavailable):
        export_keying_material(server, sctx, "x", 8)
    for _ in range(6):
        for end in (client, server):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
        si.write(co.read())
        ci.write(so.read())
    assert server.version() == ("TLSv1.2" if version is ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
    for label, ctx in (("ttls keying material", None), ("EXPORTER_EAP_TLS_Key_Material", b"\x15")):
        ours = export_keying_material(server, sctx, label, 128, ctx)
        assert ours == export_keying_material(client, cctx, label, 128, ctx) and len(ours) == 128
    assert export_keying_material(server, sctx, "a", 32) != export_keying_material(server, sctx, "b", 32)
    with pytest.raises(ExporterUnavailable):      # the context must be the one the object was made from
        export_keying_material(server, cctx, "x", 8)
