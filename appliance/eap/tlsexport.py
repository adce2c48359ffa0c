"""TLS keying-material exporter (RFC 5705 / RFC 8446 §7.5) for ``ssl.SSLObject``.

The standard library's ``ssl`` has no ``export_keying_material``; EAP-TTLS needs it
(RFC 5281 §8: MSK from the TLS PRF with "ttls keying material"; the implicit
challenge with "ttls challenge").  We call OpenSSL's ``SSL_export_keying_material``
on the ``SSL*`` of the very object the handshake ran on, found through ctypes in
the ``_ssl`` module's object layout (CPython's ``PySSLSocket``/``PySSLContext``:
the pointer right after the object header and the socket weakref).  The pointer is
validated before use (``SSL_get_SSL_CTX(ssl)`` must be the context's ``SSL_CTX*``);
any mismatch raises :class:`ExporterUnavailable` instead of touching memory.
"""
from __future__ import annotations

import ctypes
import ssl
import sys
from typing import Any

_HEAD = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)   # PyObject_HEAD


class ExporterUnavailable(RuntimeError):
    """The running interpreter/OpenSSL does not allow exporting TLS keying material."""


_lib: Any = None


def _libssl() -> Any:
    global _lib
    if _lib is None:
        import _ssl
        import ctypes.util
        path = getattr(_ssl, "__file__", None) or ctypes.util.find_library("ssl")   # built-in _ssl: the soname
        if path is None:
            raise ExporterUnavailable("cannot locate the OpenSSL library of the ssl module")
        lib = ctypes.CDLL(path)
        for name in ("SSL_export_keying_material", "SSL_get_SSL_CTX"):
            if not hasattr(lib, name):
                raise ExporterUnavailable(f"{name} not found in the ssl module's OpenSSL")
        lib.SSL_export_keying_material.restype = ctypes.c_int
        lib.SSL_export_keying_material.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                                   ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                                   ctypes.c_size_t, ctypes.c_int]
        lib.SSL_get_SSL_CTX.restype = ctypes.c_void_p
        lib.SSL_get_SSL_CTX.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib


def _pointer_after_head(obj: Any, skip: int) -> int:
    value = ctypes.c_void_p.from_address(id(obj) + _HEAD + skip * ctypes.sizeof(ctypes.c_void_p)).value
    if not value:
        raise ExporterUnavailable("null pointer in the ssl object")
    return value


def _ssl_pointer(sslobj: ssl.SSLObject, context: ssl.SSLContext) -> int:
    if sys.implementation.name != "cpython":
        raise ExporterUnavailable("needs CPython")
    lib = _libssl()
    inner = sslobj._sslobj  # type: ignore[attr-defined]  # _ssl._SSLSocket: HEAD, Socket, SSL *ssl
    ptr = _pointer_after_head(inner, 1)
    ctx_ptr = _pointer_after_head(context, 0)   # PySSLContext: PyObject_HEAD, SSL_CTX *ctx
    if lib.SSL_get_SSL_CTX(ptr) != ctx_ptr:
        raise ExporterUnavailable("could not locate the SSL object safely")
    return ptr


def export_keying_material(sslobj: ssl.SSLObject, context: ssl.SSLContext, label: str, length: int,
                           ctx_value: bytes | None = None) -> bytes:
    """TLS-Exporter(label, context, length) of a completed handshake."""
    if sslobj.version() is None:
        raise ExporterUnavailable("handshake not complete")
    ptr = _ssl_pointer(sslobj, context)
    out = ctypes.create_string_buffer(length)
    raw_label = label.encode()
    use_ctx = 1 if ctx_value is not None else 0
    ok = _libssl().SSL_export_keying_material(ptr, out, length, raw_label, len(raw_label),
                                              ctx_value or b"", len(ctx_value or b""), use_ctx)
    if ok != 1:
        raise ExporterUnavailable("SSL_export_keying_material failed")
    return out.raw


SSL_CTRL_SET_TLSEXT_TICKET_KEYS = 59
TICKET_KEYS_LENGTH = 80          # OpenSSL 3: 16 key name | 32 HMAC secret | 32 AES-256 key
SSL_SENT_SHUTDOWN, SSL_RECEIVED_SHUTDOWN = 1, 2


def set_ticket_keys(context: ssl.SSLContext, keys: bytes) -> None:
    """Give a server context fixed session-ticket keys (RFC 5077 §4 "key_name", MAC and encryption keys),
    so that every process holding the same keys can decrypt a ticket another one issued."""
    if len(keys) != TICKET_KEYS_LENGTH:
        raise ValueError(f"ticket keys must be {TICKET_KEYS_LENGTH} octets")
    if sys.implementation.name != "cpython":
        raise ExporterUnavailable("needs CPython")
    lib = _libssl()
    if not hasattr(lib, "SSL_CTX_ctrl"):
        raise ExporterUnavailable("SSL_CTX_ctrl not found in the ssl module's OpenSSL")
    lib.SSL_CTX_ctrl.restype = ctypes.c_long
    lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_char_p]
    ctx_ptr = _pointer_after_head(context, 0)
    probe = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)     # validates ctx_ptr
    _ssl_pointer(probe, context)
    if lib.SSL_CTX_ctrl(ctx_ptr, SSL_CTRL_SET_TLSEXT_TICKET_KEYS, len(keys), keys) != 1:
        raise ExporterUnavailable("SSL_CTX_set_tlsext_ticket_keys failed")


def _session_functions() -> Any:
    lib = _libssl()
    for name in ("SSL_get_session", "SSL_set_shutdown", "SSL_SESSION_set1_ticket_appdata",
                 "SSL_SESSION_get0_ticket_appdata", "SSL_new_session_ticket", "SSL_CTX_remove_session",
                 "SSL_CTX_set_timeout"):
        if not hasattr(lib, name):
            raise ExporterUnavailable(f"{name} not found in the ssl module's OpenSSL")
    lib.SSL_get_session.restype = ctypes.c_void_p
    lib.SSL_get_session.argtypes = [ctypes.c_void_p]
    lib.SSL_SESSION_set1_ticket_appdata.restype = ctypes.c_int
    lib.SSL_SESSION_set1_ticket_appdata.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.SSL_SESSION_get0_ticket_appdata.restype = ctypes.c_int
    lib.SSL_SESSION_get0_ticket_appdata.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                                    ctypes.POINTER(ctypes.c_size_t)]
    lib.SSL_new_session_ticket.restype = ctypes.c_int
    lib.SSL_new_session_ticket.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_remove_session.restype = ctypes.c_int
    lib.SSL_CTX_remove_session.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.SSL_CTX_set_timeout.restype = ctypes.c_long
    lib.SSL_CTX_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
    lib.SSL_set_shutdown.restype = None
    lib.SSL_set_shutdown.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _session(sslobj: ssl.SSLObject, context: ssl.SSLContext) -> tuple[Any, int, int]:
    lib = _session_functions()
    ptr = _ssl_pointer(sslobj, context)
    sess = lib.SSL_get_session(ptr)
    if not sess:
        raise ExporterUnavailable("no TLS session")
    return lib, ptr, sess


def remember_in_session(sslobj: ssl.SSLObject, context: ssl.SSLContext, data: bytes) -> None:
    """Attach ``data`` to the TLS session (``SSL_SESSION_set1_ticket_appdata``): a later handshake that
    resumes this session reads it back with :func:`session_memory`.  Under TLS 1.3 a NewSessionTicket
    (RFC 8446 §4.6.1) carrying it is queued and goes out with the next record written."""
    lib, ptr, sess = _session(sslobj, context)
    if lib.SSL_SESSION_set1_ticket_appdata(sess, data, len(data)) != 1:
        raise ExporterUnavailable("SSL_SESSION_set1_ticket_appdata failed")
    if sslobj.version() == "TLSv1.3" and lib.SSL_new_session_ticket(ptr) != 1:
        raise ExporterUnavailable("SSL_new_session_ticket failed")


def keep_session(sslobj: ssl.SSLObject, context: ssl.SSLContext) -> None:
    """After the last record: mark the connection cleanly shut down.  EAP never sends close_notify,
    and OpenSSL drops the cached session of an SSL freed without one (``ssl_clear_bad_session``)."""
    lib = _session_functions()
    lib.SSL_set_shutdown(_ssl_pointer(sslobj, context), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN)


def session_memory(sslobj: ssl.SSLObject, context: ssl.SSLContext) -> bytes | None:
    """What :func:`remember_in_session` attached to the session this handshake resumed, or None."""
    lib, _ptr, sess = _session(sslobj, context)
    data, size = ctypes.c_void_p(), ctypes.c_size_t()
    if lib.SSL_SESSION_get0_ticket_appdata(sess, ctypes.byref(data), ctypes.byref(size)) != 1 or not data.value:
        return None
    return ctypes.string_at(data.value, size.value)


def forget_session(sslobj: ssl.SSLObject, context: ssl.SSLContext) -> None:
    """Remove the session from the context's cache: a failed authentication is never resumed."""
    try:
        lib, _ptr, sess = _session(sslobj, context)
    except ExporterUnavailable:
        return
    lib.SSL_CTX_remove_session(_pointer_after_head(context, 0), sess)


def set_session_lifetime(context: ssl.SSLContext, seconds: int) -> None:
    """How long a cached session / ticket may be resumed (``SSL_CTX_set_timeout``)."""
    lib = _session_functions()
    probe = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)     # validates the pointer
    _ssl_pointer(probe, context)
    lib.SSL_CTX_set_timeout(_pointer_after_head(context, 0), seconds)


SSL_CTRL_SET_SESS_CACHE_MODE = 44


def disable_session_cache(context: ssl.SSLContext) -> None:
    """No server-side session cache: every handshake is a full one (``SSL_SESS_CACHE_OFF``)."""
    lib = _session_functions()
    if not hasattr(lib, "SSL_CTX_ctrl"):
        raise ExporterUnavailable("SSL_CTX_ctrl not found in the ssl module's OpenSSL")
    lib.SSL_CTX_ctrl.restype = ctypes.c_long
    lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_char_p]
    probe = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)     # validates the pointer
    _ssl_pointer(probe, context)
    lib.SSL_CTX_ctrl(_pointer_after_head(context, 0), SSL_CTRL_SET_SESS_CACHE_MODE, 0, None)
