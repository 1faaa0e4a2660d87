"""The notebooks' edge: typed parameters, the per-kernel run cache, HTML views (no core module imports this)."""
