"""Benchmarks of the registry at scale: seeding PostgreSQL and timing the API against SQL."""
