"""PCRF: policy tables in the store, Gx session decisions, management (the Gx codec is
``appliance.diameter.apps.gx``)."""
