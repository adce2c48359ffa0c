"""What every process reports about itself, beside the core: per-process counters and latency
histograms (:mod:`.metrics`, summed by the SNMP agent and ``GET /metrics``) and the events a
worker hands to the SNMP agent for notifications (:mod:`.events`).  Front ends import this
package, never the agent's."""
