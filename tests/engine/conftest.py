"""Fixtures for the engine tests: a simulated Sage 100 company and its feeds."""

from tests.support.changefeeds import company, feed, sage

__all__ = ["company", "feed", "sage"]
