"""The synthetic city: deterministic data generators and fake agency endpoints.

Used by the demo, the tests and the benchmarks; the hub itself never imports this package.
"""
