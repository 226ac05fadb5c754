"""Unit tests of the agreements package: markings, envelope facts, clauses, the engine."""
