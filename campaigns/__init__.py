"""TRAFFIC: brands, landings, campaigns, promos, tracking links, visits, players, postbacks."""
