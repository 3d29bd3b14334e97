"""Serve the Sheets emulator on 127.0.0.1: `python -m tests.emulators.sheets --port N`."""

from __future__ import annotations

import argparse
import sys

from werkzeug.serving import make_server

from ..serving import collect_garbage_less_often
from . import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.sheets", description=__doc__)
    parser.add_argument("--port", type=int, default=8089, help="port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    collect_garbage_less_often()
    server = make_server("127.0.0.1", args.port, create_app(), threaded=True)
    print(f"Sheets emulator listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
