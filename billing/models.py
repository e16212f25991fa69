"""Models of this app (built by its own release)."""
