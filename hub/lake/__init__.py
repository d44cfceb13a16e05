"""The lake: zone buckets on S3, raw deliveries with manifests, and Iceberg tables."""
