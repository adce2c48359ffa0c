"""Bulk provisioning: subscribers (services, products, initial balances) imported from a file."""
