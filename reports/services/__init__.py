"""Writes of the reports app: favorites (favorites.py) and requested reports (requested.py)."""
