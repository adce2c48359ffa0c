"""pysmi output for mibs/ (generated: appliance snmp compile-mibs --bundle)."""
