"""Accounts and their credentials."""
