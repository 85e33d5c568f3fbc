"""One frozen settings object for a server process, from flags and the environment.

Every setting is defined once, here: its type, default and help. Each has an environment
variable (`FLOOR_` + its name in capitals); the server's own settings also have a flag
(`--` + its name with dashes; `add_arguments` makes them), the per-connection limits
(floor.protocol.limits) the variable only. A flag wins over the environment, which wins
over the default.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from floor.errors import ConfigError
from floor.protocol.limits import Limits

__all__ = ["Limits", "ServerSettings", "add_arguments", "from_environment", "overrides_of"]


def _setting(default: Any, help: str, *, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "metavar": metavar})


DATA: Final = Path("data")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = _setting("127.0.0.1", "address to listen on")
    port: int = _setting(8000, "port")
    data: Path = _setting(DATA, "data directory (the SQLite log, the admin token)")  # noqa: RUF009 (a Path is immutable)
    admin_token: str | None = _setting(None, "admin API token (default: generated, kept in DATA)")
    redis: str | None = _setting(None, "Redis URL, for a cluster of nodes", metavar="URL")
    public_url: str | None = _setting(None, "base URL of join links (default http://HOST:PORT)")
    origins: tuple[str, ...] = _setting(
        (), "a browser origin allowed on /ws besides our own; repeat; * allows any", metavar="URL"
    )
    demo: bool = _setting(False, "create a demo meeting and print its links")
    limits: Limits = field(default_factory=Limits)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


_FLAGS = {"origins": "--origin"}
"""Flags not named after their setting."""
_KINDS: Final[dict[str, dict[str, Any]]] = {
    "bool": {"action": "store_true", "default": None},
    "tuple[str, ...]": {"action": "append"},
    "int": {"type": int},
    "Path": {"type": Path},
}
"""How argparse reads a setting, by its annotation (a string: annotations are postponed)."""


def _server_fields() -> list[Any]:
    return [f for f in fields(ServerSettings) if f.name != "limits"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """A flag for each server setting (its help names the environment variable)."""
    for f in _server_fields():
        flag = _FLAGS.get(f.name, "--" + f.name.replace("_", "-"))
        env = f"FLOOR_{f.name.upper()}"
        default = "" if f.default in (None, (), False) else f"; default {f.default}"
        options: dict[str, Any] = {"dest": f.name, "help": f"{f.metadata['help']} ({env}{default})"}
        if f.metadata["metavar"]:
            options["metavar"] = f.metadata["metavar"]
        options.update(_KINDS.get(f.type, {}))
        parser.add_argument(flag, **options)


def overrides_of(options: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags (None where a flag was not given)."""
    found = {f.name: getattr(options, f.name, None) for f in _server_fields()}
    origins = found.get("origins")
    if origins is not None:
        found["origins"] = tuple(origins)
    return found


def _convert(name: str, raw: str, like: Any) -> Any:
    try:
        if isinstance(like, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if isinstance(like, int):
            return int(raw)
        if isinstance(like, float):
            return float(raw)
        if isinstance(like, Path):
            return Path(raw)
        if isinstance(like, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"FLOOR_{name.upper()}: cannot read {raw!r}") from None
    return raw


def from_environment(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> ServerSettings:
    """Settings from `FLOOR_*` variables, then `overrides` (flags; None values ignored)."""
    environ = os.environ if environ is None else environ
    defaults = ServerSettings()
    values: dict[str, Any] = {}
    for f in _server_fields():
        raw = environ.get(f"FLOOR_{f.name.upper()}")
        if raw is None and f.name == "redis":  # the name issue 4 gives it, as an alias
            raw = environ.get("FLOOR_REDIS_URL")
        if raw is not None:
            like = getattr(defaults, f.name)
            values[f.name] = _convert(f.name, raw, like if like is not None else "")
    limits: dict[str, Any] = {}
    for f in fields(Limits):
        raw = environ.get(f"FLOOR_{f.name.upper()}")
        if raw is not None:
            limits[f.name] = _convert(f.name, raw, getattr(defaults.limits, f.name))
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in {f.name for f in fields(Limits)}:
            limits[key] = value
        else:
            values[key] = value
    if not 0 < int(values.get("port", defaults.port)) < 65536:
        raise ConfigError("The port must be between 1 and 65535.")
    return ServerSettings(**values, limits=Limits(**limits))
