"""Benchmark harness (`flask bench …`). Measures; never asserts."""
