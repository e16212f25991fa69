"""Portal pages of the campaigns app, one module per area."""
