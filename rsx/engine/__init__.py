"""Keras-side machinery, imported only after a backend's environment is set.

Every module in this package imports keras (and may import a framework) at top level, so
nothing reached by `import rsx`, plugin discovery or config composition imports it.
"""
