"""Helpers for the fkp notebook series."""
