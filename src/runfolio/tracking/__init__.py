"""Writing runs: the run handle, the fluent active-run stack and auto-captured context.

Uses the store and the standard library (plus pyyaml); never pandas, altair, jinja2 or
git at import time.
"""
