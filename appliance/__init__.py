"""OCS/AAA/PCRF network appliance."""
__version__ = "0.1.0"
