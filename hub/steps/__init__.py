"""Pipeline steps as plain functions: land -> validate -> protect -> publish -> release -> cleanup.

Each step takes a ``RunContext`` and returns a small JSON-able dict, so any orchestrator
(Airflow here) can call it and pass results along; data moves through the lake, never XCom.
``hub.steps.plan`` lists them in order; ``hub.steps.pipeline`` runs them all in one process.
"""
