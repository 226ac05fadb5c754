"""Unit tests of the exports package: observables, eligibility, the format writers."""
