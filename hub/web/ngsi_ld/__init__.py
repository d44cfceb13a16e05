"""NGSI-LD (ETSI GS CIM 009) over the hub's open sensor data, so a FIWARE client reads the hub
as it reads a context broker: current state at ``/ngsi-ld/v1/entities``, history at
``/ngsi-ld/v1/temporal/entities``.

A feed is a source when its YAML declares ``ngsi_ld:`` (``hub.registry.spec.NgsiLd``) and it
is public; its rows come from the open zone. Each entity's newest row is its current state.
Every answer goes through the sharing API's authorization, audit log and provision register.

``params`` parses the query, ``reading`` reads the sources' rows from the lake, ``rendering``
shapes them as NGSI-LD JSON, ``routes`` answers (and ``errors`` refuses) over HTTP.
"""
