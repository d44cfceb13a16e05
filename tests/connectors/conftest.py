"""The agency database fixture of the SQL-table tests, shared by the hostile-state tests."""

from tests.connectors.test_sql_table import source_url  # noqa: F401  (a fixture, by name)
