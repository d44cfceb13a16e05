"""City Data Hub: feeds into a governed Iceberg lake on S3, with a catalog and lineage."""

__all__ = ["__version__"]
__version__ = "0.1.0"
