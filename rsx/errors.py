"""Errors meant for users: one line that names the key or input and says what to do."""

from __future__ import annotations


class RsxError(Exception):
    """A problem the user can fix; rsx prints `str(error)` as one line, no traceback.

    Args:
        message: what is wrong, naming the config key or input (e.g. "data.path").
        fix: what to do about it; appended after " -> ".
    """

    def __init__(self, message: str, fix: str | None = None):
        self.message = message
        self.fix = fix
        super().__init__(f"{message} -> {fix}" if fix else message)


class ConfigError(RsxError):
    """A config key holds a value rsx cannot use."""


class DataError(RsxError):
    """Input data is missing, unreadable or malformed."""


class PluginError(RsxError):
    """A plugin is unknown, broken, or breaks the plugin contract."""
