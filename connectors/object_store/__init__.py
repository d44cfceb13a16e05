"""Files an agency publishes in its own S3-compatible bucket (MinIO, Ceph, AWS), pulled by the hub."""
