"""Benchmarks: commands that print figures (see docs/benchmarks.md), not tests."""
