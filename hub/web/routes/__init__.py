"""The web app's routes, one module per resource, each a module-level ``router``."""
