"""Writes of the campaigns app, one module per area."""
