"""Personal-data protection: the Korean PII scanner, pseudonymization, the key vault, k/l releases.

``privacy.policy`` declares a feed's column classes and techniques (the registry reads it);
the protect step applies them (``privacy.techniques``) with keys from the vault, scans what
remains, and the release step generalizes open data until the k-anonymity gate holds.
"""
