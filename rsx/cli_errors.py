"""Every error a user can fix, as the one line `rsx: error: <what is wrong> -> <fix>`.

Hydra reports a bad override over several lines ("Error merging override ...", the OmegaConf
error, `full_key:` / `object_type=` lines, a hint about HYDRA_FULL_ERROR). `one_line` turns
those exceptions, OmegaConf's, and rsx's own `RsxError`s into a single line that names the
key or input and says what to do. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Iterable, Optional

from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    InterpolationResolutionError,
    OmegaConfBaseException,
    ValidationError,
)

from rsx.errors import RsxError

#: Shown in fixes: the command that prints every key with its current value.
SHOW_CONFIG = "`python -m rsx --cfg job` lists every key"


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _first_line(text: str) -> str:
    return str(text).strip().splitlines()[0].strip() if str(text).strip() else ""


def _schema_keys(object_type) -> list[str]:
    if object_type is not None and dataclasses.is_dataclass(object_type):
        return [f.name for f in dataclasses.fields(object_type)]
    return []


def unknown_key(full_key: str, known: Iterable[str]) -> str:
    """'unknown key a.b -> did you mean a.c? valid keys of a: ...'."""
    parent, _, leaf = full_key.rpartition(".")
    known = sorted(known)
    close = difflib.get_close_matches(leaf, known, n=1)
    where = f" of {parent}" if parent else ""
    if close:
        fix = f"did you mean {parent + '.' if parent else ''}{close[0]}? valid keys{where}: {', '.join(known)}"
    elif known:
        fix = f"valid keys{where}: {', '.join(known)}"
    else:
        fix = f"check the spelling; {SHOW_CONFIG}"
    return f"unknown key '{full_key}' -> {fix}"


def _omegaconf_line(error: OmegaConfBaseException, override: Optional[str] = None) -> str:
    key = getattr(error, "full_key", None) or "?"
    message = _first_line(getattr(error, "msg", None) or str(error)).split("full_key:")[0].strip()
    if isinstance(error, (ConfigAttributeError, ConfigKeyError)) and ("not in" in message or "is not in struct" in message):
        return unknown_key(key, _schema_keys(getattr(error, "object_type", None)))
    if isinstance(error, InterpolationResolutionError):
        return f"{key}: cannot resolve its value ({_squash(message)}) -> fix the ${{...}} interpolation or give {key} a plain value"
    if isinstance(error, ValidationError) and "is not Optional" in message:
        return f"{key} cannot be null -> give {key} a value ({SHOW_CONFIG} with their types)"
    if isinstance(error, ValidationError):
        given = f" in '{override}'" if override else ""
        return f"{key}: {_squash(message)}{given} -> give {key} a value of its type ({SHOW_CONFIG})"
    return f"{key}: {_squash(message)} -> check {key} ({SHOW_CONFIG})"


def _missing_option(error: MissingConfigException) -> str:
    missing = getattr(error, "missing_cfg_file", None) or ""
    group, _, option = str(missing).rpartition("/")
    options = [o for o in (getattr(error, "options", None) or []) if not o.startswith("_")]
    if not group:  # A primary config or an unknown group, not an unknown option.
        return f"{_squash(_first_line(str(error)))} -> check the group name ({SHOW_CONFIG})"
    fix = f"choose one of: {', '.join(options)}" if options else f"no {group} options are installed"
    return f"unknown {group} '{option}' (key: {group}) -> {fix}"


def failing_override(overrides: Iterable[str]) -> Optional[str]:
    """The first override Hydra's grammar rejects, if any."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_override(override)
        except Exception:
            return override
    return None


def one_line(error: BaseException, overrides: Iterable[str] = (), composing: bool = False) -> Optional[str]:
    """The user-facing line for `error`, or None when it is not a user error (a bug).

    Args:
        error: what was raised while composing or running a job.
        overrides: the command line's overrides, to name one that Hydra could not parse.
        composing: the error came out of config composition, before any job started: only
            the command line can have caused it, so it is a user error whatever its type
            (Hydra itself fails with e.g. a TypeError on `backend=[1,2]`).
    """
    overrides = list(overrides)
    line = _classified(error, overrides)
    if line is None and composing:
        shown = " ".join(overrides) or "(no overrides)"
        line = (
            f"cannot compose the config from: {shown} ({type(error).__name__}: {_squash(error)[:300]}) "
            f"-> check these overrides; {SHOW_CONFIG}, HYDRA_FULL_ERROR=1 shows the traceback"
        )
    return line


def _classified(error: BaseException, overrides: list[str]) -> Optional[str]:
    if isinstance(error, RsxError):
        return _squash(str(error))
    if isinstance(error, OverrideParseException):
        bad = failing_override(overrides)
        what = f"cannot parse the override '{bad}'" if bad else "cannot parse an override"
        return (
            f"{what} ({_squash(_first_line(str(error)))}) -> write key=value; quote values with "
            "spaces or special characters, e.g. key='a b' (https://hydra.cc/docs/advanced/override_grammar/basic)"
        )
    if isinstance(error, MissingConfigException):
        return _missing_option(error)
    cause = error.__cause__ if isinstance(error, HydraException) else None
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None)
        override = next((o for o in overrides if key and o.lstrip("+~").split("=")[0] == key), None)
        return _omegaconf_line(cause, override)
    if isinstance(error, OmegaConfBaseException):
        return _omegaconf_line(error)
    if isinstance(error, HydraException):
        return f"{_squash(str(error))} -> check the command line ({SHOW_CONFIG})"
    if isinstance(error, ValueError) and "override" in str(error).lower():
        groups = [o for o in overrides if "." not in o.split("=")[0] and "=" in o]
        where = f" in '{groups[0]}'" if groups else ""
        return f"{_squash(str(error))}{where} -> choose a group option by name, e.g. backend=cpu_reference"
    return None
