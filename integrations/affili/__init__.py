"""Affili connector: its client, connector, tables and admin."""
