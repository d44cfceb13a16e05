"""Files an agency drops into the hub's inbox bucket: CSV, Excel, JSON, JSON lines, Parquet."""
