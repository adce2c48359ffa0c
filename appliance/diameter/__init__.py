"""Diameter front end: codec, sans-I/O peer, asyncio node, applications (apps/)."""
