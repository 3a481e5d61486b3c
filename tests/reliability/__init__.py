"""Fault-injection suite: every test injects a real fault into the real code path (see issue 9)."""
