"""Schema migrations (Alembic), one chain for every backend."""
