"""rsx's built-in plugins (installed as the `rsx_plugins` package).

Each folder is one self-contained plugin: its spec (`__init__.py`, framework-free), its
typed config (`config.py`), its implementation, a README and its own tests. They are
declared as entry points in rsx's pyproject exactly as a third-party plugin would be.
"""
