"""`floor`: the command line. `floor serve` runs a node; `floor --help` lists the rest."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import uvicorn

from floor import settings as config
from floor.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="floor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a Floor server node")
    config.add_arguments(serve)
    serve.add_argument("--log-level", default="info", help="log level (default info)")
    from floor.devices import sim

    sim.add_arguments(
        commands.add_parser("console-sim", help="simulate a room of conference consoles")
    )
    return parser


def serve(options: argparse.Namespace) -> int:
    from floor import demo
    from floor.app import build_app
    from floor.services import Services
    from floor.transport.wsprotocol import with_limit

    try:
        settings = config.from_environment(config.overrides_of(options))
    except ConfigError as e:
        print(f"floor: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=options.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def started(floor: Services) -> None:
        print(f"Floor listening on {settings.base_url} (data in {settings.data})", flush=True)
        if floor.admin_token_generated:
            print(
                f"Admin token (generated, kept in {settings.data}/admin-token): "
                f"{floor.admin_token}",
                flush=True,
            )
        else:
            print(f"Admin token: in {settings.data}/admin-token or FLOOR_ADMIN_TOKEN", flush=True)
        if settings.demo:
            links = await demo.ensure(floor)
            print(demo.describe(links, settings.base_url), flush=True)

    limits = settings.limits
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(settings, on_started=started),
            host=settings.host,
            port=settings.port,
            ws=with_limit(limits.send_buffer),
            ws_max_size=limits.max_frame,
            ws_ping_interval=limits.ping_interval_s,
            ws_ping_timeout=limits.ping_timeout_s,
            ws_per_message_deflate=False,
            lifespan="on",
            log_level=options.log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    )
    asyncio.run(server.serve())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if options.command == "serve":
        return serve(options)
    if options.command == "console-sim":
        from floor.devices import sim

        return sim.run(options)
    return 2  # pragma: no cover - argparse requires a known command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
