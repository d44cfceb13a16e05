"""The feed registry: ``feeds/*.yaml`` loaded into immutable, typed ``FeedSpec`` models."""

from hub.registry.loader import load_feed, load_registry, validate_registry
from hub.registry.spec import FeedSpec, FieldSpec

__all__ = ["FeedSpec", "FieldSpec", "load_feed", "load_registry", "validate_registry"]
