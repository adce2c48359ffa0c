"""Pure EAP (RFC 3748): codec, authenticator framework, methods.  No sockets, no RADIUS, no Diameter.

See docs/eap.md for the method interface.  Method modules (ttls, pwd, aka) register
their factories in :data:`appliance.eap.framework.registry` when imported;
:func:`load_methods` imports the ones that exist.
"""
from __future__ import annotations

import importlib

from .credentials import CredentialLookup, MemoryLookup, StoreLookup
from .framework import (
    Accept,
    Conversation,
    Discard,
    Failure,
    Ignore,
    Method,
    MethodContext,
    Policy,
    Registry,
    Reject,
    Request,
    Send,
    Success,
    registry,
)
from .packet import Code, EapFormatError, EapPacket, EapType, decode, encode

METHOD_MODULES = ("appliance.eap.ttls", "appliance.eap.pwd", "appliance.eap.aka",
                  "appliance.eap.eapmschapv2", "appliance.eap.gtc", "appliance.eap.peap",
                  "appliance.eap.eaptls")

__all__ = ["Accept", "Code", "Conversation", "CredentialLookup", "Discard", "EapFormatError", "EapPacket",
           "EapType", "Failure", "Ignore", "MemoryLookup", "Method", "MethodContext", "Policy", "Registry",
           "Reject", "Request", "Send", "StoreLookup", "Success", "decode", "encode", "load_methods", "registry"]


def load_methods() -> tuple[int, ...]:
    """Import every method module present (each registers itself); returns the registered types."""
    for name in METHOD_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return registry.types()
