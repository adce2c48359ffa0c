"""Protocol-free OCS core: units, catalog, inventory, balance (ABMF), rating (RF), policy, ports.

Nothing here imports a protocol, asyncio or a database driver.
"""
