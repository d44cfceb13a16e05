"""Quality gate (Great Expectations suites, quarantine, scores): see issue 5.

For now the validate step (``hub.steps.validate``) checks that each delivery parses to the
declared schema and quarantines the rows that do not.
"""
