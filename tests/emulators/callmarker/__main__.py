"""Serve the CallMarker emulator on 127.0.0.1: ``python -m tests.emulators.callmarker --port N``."""

from __future__ import annotations

import argparse
import json

from werkzeug.serving import make_server

from tests.emulators.callmarker import create_app
from tests.emulators.serving import collect_garbage_less_often


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.callmarker", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed when ready)")
    parser.add_argument("--token", action="append", default=[], help="a valid token (repeatable)")
    parser.add_argument(
        "--settings",
        type=json.loads,
        default={},
        help='create_app settings as JSON, e.g. \'{"campaigns": {"11": ["Garret Robel"]}}\'',
    )
    args = parser.parse_args(argv)
    settings = dict(args.settings)
    settings["tokens"] = [*settings.get("tokens", []), *args.token]
    collect_garbage_less_often()
    app = create_app(**settings)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"CallMarker emulator ready on http://{args.host}:{server.port}/api/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        server.server_close()


if __name__ == "__main__":
    main()
