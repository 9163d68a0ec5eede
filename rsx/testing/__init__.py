"""Test support that rsx ships for its own and third-party plugins' test suites.

`rsx.testing.conformance` holds the conformance suites every backend and model plugin
runs; `rsx.testing.cli` runs `python -m rsx` in a fresh process and reads back MLflow.
"""
