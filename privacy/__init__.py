"""Personal-data protection (PII scan, pseudonymization, key vault): see issue 6.

The protect step will sit between validate and publish with the same step signature.
"""
