"""Entities from an NGSI-LD context broker (ETSI GS CIM 009), e.g. a city IoT platform."""
