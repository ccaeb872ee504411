"""`cutover serve [--profile P | --demo] [--port N] [--host H]`: the app in a browser, through textual-serve.

Each browser tab runs its own app process (`cutover demo` or `cutover open --profile P`, as textual-serve does), so a
demo tab gets a fresh simulated tenant. textual-serve has no authentication of its own: cli.browser_guard lets in
only the first browser that opens the link printed here (its token works once, then a session cookie). Loopback
by default; another host needs --allow-remote and --public-url, and TLS or SSH port forwarding in front (README,
"Browser mode").
"""

from __future__ import annotations

import argparse

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535 (0: any free port)")
    return int(text)


def tab_command(args: argparse.Namespace, profile: str | None) -> list[str]:
    """What textual-serve runs for each tab: this Python's `cutover demo` or `cutover open --profile P`. No secret
    is ever an argument: a real profile's credentials come from the keyring (or CUTOVER_* variables) in the tab."""
    import sys

    command = [sys.executable, "-m", "cli", "demo"] if profile is None else \
        [sys.executable, "-m", "cli", "open", "--profile", profile]
    if args.timeout is not None:
        command += ["--timeout", str(args.timeout)]
    return command


def _checked_host(args: argparse.Namespace) -> str | None:
    """The public URL to print (None: the bound address), after the checks for serving beyond this machine."""
    from urllib.parse import urlsplit

    from core.errors import ConfigError

    if args.public_url is not None:
        parts = urlsplit(args.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ConfigError(f"--public-url {args.public_url!r} is not a site's address",
                              hint="give the address browsers use to reach this server, e.g. "
                                   "https://cutover.example.com or https://host:8443 (no path)")
    if args.host not in LOOPBACK_HOSTS:
        if not args.allow_remote:
            raise ConfigError(f"--host {args.host} would let other machines drive the app, with no TLS of its own",
                              hint="keep the default 127.0.0.1 and use SSH port forwarding (README, Browser mode), "
                                   "or add --allow-remote --public-url https://… behind a TLS proxy")
        if args.public_url is None:
            raise ConfigError(f"--host {args.host} needs --public-url: the address browsers use to reach it",
                              hint="e.g. --public-url https://cutover.example.com (a TLS proxy in front)")
    return args.public_url.rstrip("/") if args.public_url else None


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from cli.target import chosen_profile
    from core.errors import ConfigError

    profile = chosen_profile(args) if not args.demo else None
    if args.demo and args.profile:
        raise ConfigError("both --demo and --profile given", hint="serve one of them")
    if not args.demo and profile is None:
        raise ConfigError("serve what?", hint="add --demo, or --profile NAME (`cutover profile list` shows them)")
    if profile is not None:
        from core.config import get_profile

        get_profile(profile)  # a typo is said here, not in every tab
    public_url = _checked_host(args)

    from cli.browser_guard import GuardedServer

    what = "the demo: each browser tab gets its own fresh simulated tenant" if profile is None else \
        f"profile {profile}"
    server = GuardedServer(tab_command(args, profile), host=args.host, port=args.port, public_url=public_url,
                           title=f"cutover · {'demo' if profile is None else profile}", what=what)
    asyncio.run(server.run())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="serve the app to a browser (textual-serve), guarded by a one-time link",
        description="Serve the app to a web browser with textual-serve. Each tab runs its own app (a --demo tab\n"
                    "gets a fresh simulated tenant). The printed link works once: the browser that opens it gets a\n"
                    "session cookie (reloads and new tabs work); others get 403. Files the app saves arrive as\n"
                    "downloads.",
        epilog="examples:\n  cutover serve --demo\n  cutover serve --profile acme-sbx --port 8080\n"
               "  ssh -L 8000:127.0.0.1:8000 jumpbox   # then open the printed link on your machine\n"
               "  cutover serve --profile acme --host 0.0.0.0 --allow-remote --public-url https://cutover.example.com",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demo", action="store_true", help="serve the demo (or --profile NAME)")
    p.add_argument("--port", type=_port, default=8000, help="the port (default 8000; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1, this machine)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other machines can reach (put TLS in front: README, Browser mode)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use (needed with --allow-remote), e.g. https://cutover.example.com")
    p.set_defaults(func=cmd_serve)
