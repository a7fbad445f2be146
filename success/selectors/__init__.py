"""Reads of the CSM's work, one module per feature, always scoped through `partners.access`."""
