"""Agencies as tenants: schema per agency, hostname routing, provisioning, isolation helpers."""
