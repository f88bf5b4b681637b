"""Tornado handlers: parse, authorize through the services, encode. No rules live here."""
