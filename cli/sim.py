"""`cutover sim serve`: the simulated tenant (Zuora + NetSuite + the connector) over loopback HTTP.

The first stdout line is one JSON object with the base URLs and this start's throwaway credentials, for the
rehearsal or a profile; then it serves until Ctrl+C or SIGTERM and exits 0.
"""

from __future__ import annotations

import argparse
import sys

from core.errors import ConfigError


class _Shutdown(Exception):
    """Raised by our signal handler: uvicorn re-raises the signal once it has shut down cleanly."""


def _one_line_error(parser: argparse.ArgumentParser):
    def error(message: str):
        print(f"cutover sim serve: {message} (see `cutover sim serve --help`)", file=sys.stderr)
        sys.exit(2)

    return error


FAULTS_HELP = ("KEY=RATE,... with KEY one of 429, 5xx, timeout, reset, token_expiry, token_5xx, bulk_item, "
               "bulk_item_refused (a rate from 0 to 1), or timeout_hold_s, seed; e.g. 429=0.1,5xx=0.05,timeout=0.01,"
               "timeout_hold_s=2,reset=0.02,token_expiry=0.03,token_5xx=0.1,bulk_item=0.05")


def fault_spec(text: str):
    """`--faults SPEC` for `cutover sim serve` and `cutover rehearse` alike: one parser, one set of keys."""
    from core.sim.config import Faults

    try:
        return Faults.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers) -> None:
    sim = subparsers.add_parser("sim", help="the simulated tenant (for rehearsals, demos and tests)")
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="SUBCOMMAND", required=True)
    p = sim_sub.add_parser("serve", help="serve a simulated Zuora + NetSuite tenant on loopback",
                           description=__doc__.splitlines()[0])
    p.error = _one_line_error(p)  # one clear line, not a usage block
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback unless --allow-remote)")
    p.add_argument("--port", type=int, default=0, help="port (0: any free port; the JSON line tells which)")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated tenant (same seed, same data)")
    p.add_argument("--scale", default="small", help="tiny|small|medium|large or a number of invoices")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every API call")
    p.add_argument("--zuora-concurrency", type=int, default=40, help="Zuora concurrent request limit")
    p.add_argument("--netsuite-concurrency", type=int, default=15, help="NetSuite concurrent request limit")
    p.add_argument("--faults", type=fault_spec, default=None, metavar="SPEC", help="injected faults: " + FAULTS_HELP)
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument("--data-dir", help="keep the tenant here (default: a temporary folder, removed at exit)")
    p.add_argument("--connector-pace", type=float, default=0.0, metavar="S",
                   help="seconds the connector pauses per batch, so records can be watched moving")
    p.add_argument("--no-override-tta", dest="override_tta", action="store_false",
                   help="the API user lacks Zuora's Override Transferred to Accounting permission (an undo of E1 "
                        "is refused memo by memo)")
    p.set_defaults(func=serve)


def _config(args):
    from core.sim.config import Faults, SimConfig, parse_scale

    try:
        if args.latency_ms < 0 or args.connector_pace < 0:
            raise ValueError("--latency-ms and --connector-pace cannot be negative")
        if args.zuora_concurrency < 1 or args.netsuite_concurrency < 1:
            raise ValueError("concurrency limits must be at least 1")
        if not 0 <= args.port <= 65535:
            raise ValueError("--port must be between 0 and 65535")
        return SimConfig(seed=args.seed, scale=parse_scale(args.scale), latency_ms=args.latency_ms,
                         zuora_concurrency=args.zuora_concurrency, netsuite_concurrency=args.netsuite_concurrency,
                         faults=args.faults or Faults(), connector_pace_s=args.connector_pace,
                         override_tta=args.override_tta)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def serve(args) -> int:
    from core.sim.server import check_host

    config = _config(args)
    check_host(args.host, allow_remote=args.allow_remote)  # before the seed, which can take minutes
    return serve_simulator(lambda: _simulator(config, args.data_dir), args.host, args.port, "simulator",
                           allow_remote=args.allow_remote)


def _simulator(config, data_dir):
    from core.sim.app import Simulator

    return Simulator(config, data_dir=data_dir)


def serve_simulator(make, host: str, port: int, what: str, *, allow_remote: bool = False) -> int:
    """Serve the simulator `make()` builds until Ctrl+C or SIGTERM: its connection info as one JSON line on stdout
    when it answers, a line on stderr naming `what`, and the simulator closed however it ends."""
    import json
    import signal

    from core.sim.server import serve_forever

    def stop(signum, frame):
        raise _Shutdown()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    sim = None
    try:
        sim = make()

        def ready() -> None:
            print(json.dumps(sim.connection_info()), flush=True)
            print(f"cutover: {what} serving on {sim.base_url} (Ctrl+C to stop)", file=sys.stderr, flush=True)

        serve_forever(sim, host, port, allow_remote=allow_remote, on_ready=ready)
    except _Shutdown:
        pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if sim is not None:
            sim.close()
    return 0
