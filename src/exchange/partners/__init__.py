"""Partners and their due diligence (pure)."""
