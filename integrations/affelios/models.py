"""Affelios tables (see the connector module for what fills them)."""
