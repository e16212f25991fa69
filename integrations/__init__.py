"""OUTSIDE WORLD: connections to affiliate networks (Affilae, Affelios, Affili) and sync runs."""
