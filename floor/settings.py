"""One frozen settings object for a server process, from flags and the environment.

Every setting has a flag and an environment variable (`FLOOR_` + its name in capitals);
a flag wins over the environment, which wins over the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from floor.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection protections (ARCHITECTURE law 3 and 5)."""

    max_frame: int = 64 * 1024
    """Inbound frame limit in bytes; larger frames are closed with 1009."""
    hello_timeout_s: float = 10.0
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    send_buffer: int = 4 * 1024 * 1024
    """Bytes queued for one client beyond which it is too slow and closed with 4008."""
    commands_per_s: float = 20.0
    command_burst: int = 40
    bad_messages_per_10s: int = 20
    """More bad messages than this within ten seconds: the connection is closed (1008)."""
    host_queue: int = 10_000
    """Commands waiting for one meeting host; past it, `rate_limited`."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data: Path = Path("data")
    admin_token: str | None = None
    redis: str | None = None
    public_url: str | None = None
    """The base URL printed in join links; default http://HOST:PORT."""
    origins: tuple[str, ...] = ()
    """Browser origins allowed on /ws besides the server's own; `*` allows any."""
    demo: bool = False
    limits: Limits = field(default_factory=Limits)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


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
) -> Settings:
    """Settings from `FLOOR_*` variables, then `overrides` (flags; None values ignored)."""
    environ = os.environ if environ is None else environ
    defaults = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "limits":
            continue
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
    return Settings(**values, limits=Limits(**limits))
