"""Incremental reads of a source database table by a cursor column, Arrow-native via ADBC."""
