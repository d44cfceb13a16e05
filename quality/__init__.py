"""The quality gate: a feed's declared checks as Great Expectations suites, run on each delivery.

Failing rows go to quarantine with the expectation that failed; a failed hard check or too
many failing rows stops the run before anything is published. Scores, freshness sweeps and the
HTML report tell how each dataset is doing. ``quality.checks`` and ``quality.standards`` are
declarations the registry reads; the rest runs inside the validate step.
"""
