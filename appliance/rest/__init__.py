"""REST management and charging APIs (TMF, Nrf, quota, wallet)."""
