"""The ground: errors, settings, column types, delivery windows, bilingual text and time.

It imports nothing of the project, so every other layer may stand on it.
"""
