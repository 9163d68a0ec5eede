"""Puts every rsx plugin's own presets on Hydra's search path (see `presets.py`)."""
