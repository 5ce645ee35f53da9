"""Results of projects (Akvo RSR / IATI style): Result → Indicator → Period, with a library
of standard corridor indicators so figures add up across the pool."""
