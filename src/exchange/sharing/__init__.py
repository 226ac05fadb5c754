"""The use-case layer: the one place that combines accounts, access rules and the store."""
