"""Real services for the test suite: a PostgreSQL cluster and the agency simulator wiring."""
