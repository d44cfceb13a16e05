"""The web app: the hub's top (composition) layer, which may import any other part of it.

``app`` wires the app; ``deps`` holds the state routes share; ``routes`` and ``ngsi_ld`` hold
the routes; the other modules hold what the routes compute (cards, pages, queries, records).
"""
