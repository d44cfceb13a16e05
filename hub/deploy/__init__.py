"""The production stack as data: its services (``topology``), the one-shot init job (``init``)
and the checks that hold ``docker-compose.yml`` to it (``checks``).

Nothing here starts a service: ``docker-compose.yml`` (and the Helm values in ``deploy/``) are
written from this description, and ``tests/deploy`` proves they still say the same.
"""
