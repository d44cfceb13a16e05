"""Pipeline steps as plain functions: land -> validate -> (protect) -> publish -> (release).

Each step takes a ``RunContext`` and returns a small JSON-able dict, so any orchestrator
(Airflow here) can call it and pass results along; data moves through the lake, never XCom.
The protect and release steps slot in between with the same signature.
"""

from hub.steps.context import RunContext

__all__ = ["RunContext"]
