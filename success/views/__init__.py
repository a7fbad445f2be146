"""Pages of the CSM's work, one module per feature; each module lists its own urlpatterns."""
