"""Tests for the Redis task backend (need a Redis at 127.0.0.1:6379 or $RESONANZ_TEST_REDIS_URL)."""
