"""Forms of the CSM's work, one module per feature."""
