"""Portal pages of the billing app, one module per area."""
