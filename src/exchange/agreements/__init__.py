"""Sharing agreements: the versioned terms, their validation, and the policy engine (pure)."""
