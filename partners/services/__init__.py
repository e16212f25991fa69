"""Writes of the partners app, one module per area (auth, security, team, account, events)."""
