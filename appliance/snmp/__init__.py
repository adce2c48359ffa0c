"""SNMP agent: the appliance's MIBs (mibs/) over the shared counters, traps to NOC managers."""
