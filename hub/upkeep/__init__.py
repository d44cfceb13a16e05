"""Keeping the hub healthy over the years: table maintenance, retention, backups and restore.

It composes the stores (the lake, the catalog) and the key vault like the pipeline steps do,
and sits beside them in the layers; the CLI and the DAGs call into it.
"""
