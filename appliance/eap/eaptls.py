"""EAP-TLS server method (RFC 5216; RFC 9190 for TLS 1.3).

The TLS context (``options["tls"]``, :func:`appliance.eap.tlstunnel.server_context` with a CA
bundle and optional CRL file) makes OpenSSL require and verify the client certificate: an
untrusted, expired or revoked one fails the handshake with an alert (RFC 5216 §2.1.3), and the
peer's answer to the alert gets EAP-Failure.  The subscriber is the value of one certificate
field (``options["tls_identity"]``: ``cn``, ``san_email``, ``san_upn`` or ``san_dns``) looked
up like any identity; an unknown or disabled one gets EAP-Failure.

End of the conversation: TLS 1.2 -- our Finished, the peer's empty Response, EAP-Success
(§2.1.1).  TLS 1.3 -- our last flight carries the commitment message (one application-data octet
0x00, RFC 9190 §2.5), the peer's empty Response, EAP-Success.  Keys: MSK | EMSK = TLS 1.2
PRF "client EAP encryption" (§2.3), TLS 1.3 TLS-Exporter("EXPORTER_EAP_TLS_Key_Material",
0x0D, 128) (RFC 9190 §2.3).

Resumption (RFC 5216 §2.1.2, RFC 9190 §2.1.3): with session tickets on (``radius.eap_tls_resumption``),
a peer that offers its ticket gets the abbreviated handshake.  The ticket is the whole state
(RFC 5077 §4: encrypted under keys every RADIUS worker shares), so any worker resumes it; the client
certificate travels inside it, and a resumed authentication looks the subscriber up again and checks
the certificate against the CRL file again before EAP-Success.
"""
from __future__ import annotations

from typing import ClassVar

from cryptography import x509
from cryptography.x509.oid import NameOID

from ..ocs.inventory import Service
from .events import Action, FindService, Reply
from .framework import Failure, MethodContext, Step, Success, registry
from .packet import EapType
from .tlstunnel import TlsMethodBase

UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")     # Microsoft User Principal Name
IDENTITY_FIELDS = ("cn", "san_email", "san_upn", "san_dns")


def _der_utf8(value: bytes) -> str | None:
    """The text of a DER UTF8String (tag 0x0C), as an otherName UPN value is encoded."""
    if len(value) < 2 or value[0] != 0x0C:
        return None
    length, pos = value[1], 2
    if length & 0x80:
        n = length & 0x7F
        length, pos = int.from_bytes(value[2:2 + n], "big"), 2 + n
    return value[pos:pos + length].decode("utf-8", "replace")


def certificate_identity(der: bytes, field: str) -> str | None:
    """The subscriber named by the certificate's ``field`` (the first one when several)."""
    cert = x509.load_der_x509_certificate(der)
    if field == "cn":
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    if field == "san_email":
        emails = san.get_values_for_type(x509.RFC822Name)
        return emails[0] if emails else None
    if field == "san_dns":
        dns = san.get_values_for_type(x509.DNSName)
        return dns[0] if dns else None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID:
            return _der_utf8(other.value)
    return None


def is_revoked(cert: x509.Certificate, crl_file: str) -> bool:
    """The certificate's serial is listed by a CRL of its issuer in ``crl_file`` (PEM, one or more CRLs).
    A resumed session skips certificate verification (RFC 5077 §3.4, RFC 8446 §2.2), so the CRL is
    checked again here; the subscriber is looked up again as on a full handshake."""
    if not crl_file:
        return False
    with open(crl_file, "rb") as f:
        text = f.read()
    marker = b"-----BEGIN X509 CRL-----"
    for part in text.split(marker)[1:]:
        crl = x509.load_pem_x509_crl(marker + part)
        if crl.issuer == cert.issuer and crl.get_revoked_certificate_by_serial_number(cert.serial_number):
            return True
    return False


class EapTlsMethod(TlsMethodBase):
    type: ClassVar[int] = int(EapType.TLS)
    option: ClassVar[str] = "tls"

    def __init__(self, ctx: MethodContext) -> None:
        super().__init__(ctx)
        self.field = str(ctx.options.get("tls_identity", "cn"))
        self.result: Success | None = None

    async def after_handshake(self, plain: bytes, finished_now: bool) -> Step | Action:
        if finished_now:
            return self._subscriber()
        if self.result is not None and not plain:
            return self.result                     # the peer acknowledged our last flight
        return Failure("EAP-TLS: unexpected data after the handshake")

    def _subscriber(self) -> Failure | Action:
        """The subscriber named by the client certificate (``options["tls_identity"]``), looked up
        by the caller (:class:`~appliance.eap.events.FindService`)."""
        assert self.tls is not None
        der = self.tls.getpeercert(binary_form=True)
        if not der:
            return Failure("EAP-TLS: no client certificate")
        name = certificate_identity(der, self.field)
        if not name:
            return Failure(f"EAP-TLS: the client certificate has no {self.field}")
        return self.ask(FindService(name), lambda reply: self._finish(self._found(reply, name, der)))

    def _finish(self, found: Success | Failure) -> Step:
        if isinstance(found, Failure):
            return found
        self.result = found
        if self.tls13:
            assert self.tls is not None
            self.tls.write(b"\x00")            # RFC 9190 §2.5 commitment message
        out = self.outgoing_bio.read()
        return self.send(out) if out else found

    def _found(self, reply: Reply, name: str, der: bytes) -> Success | Failure:
        assert self.tls is not None
        service = reply if isinstance(reply, Service) else None
        if service is None or not service.enabled:
            return Failure("EAP-TLS: certificate subject is not a subscriber",
                           service.id if service is not None else None)
        resumed = self.tls.session_reused
        if resumed and is_revoked(x509.load_der_x509_certificate(der), self.ctx.options.get("tls_crl_file", "")):
            return Failure("EAP-TLS: resumed session of a revoked certificate", service.id)
        msk, emsk = self.keys()
        return Success(msk, emsk, identity=name, service_id=service.id,
                       extra={"certificate_field": self.field, "resumed": resumed})


registry.register(int(EapType.TLS), EapTlsMethod)
