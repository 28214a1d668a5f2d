"""Run several nova-compute services from one import of Nova.

``python enos_compute_pool.py LOGDIR CONF...``, with the OpenStack virtualenv's python: Nova is
imported once, then one process is forked per configuration file (each has its own ``host``),
so that the code pages are shared between them and each starts without importing again. Each
child is the unmodified ``nova.cmd.compute.main`` and logs to ``LOGDIR/nova-compute-<conf>.log``.
A child that exits is started again after a delay; SIGTERM stops them all.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    logdir, confs = Path(argv[0]), argv[1:]
    # Nova reads its concurrency mode from the command line's configuration files at import,
    # and its command module must be imported first (it chooses the threading backend).
    sys.argv = ["nova-compute", "--config-file", confs[0]]
    compute = importlib.import_module("nova.cmd.compute")
    # The manager's periodic tasks take their intervals from the configuration when it is
    # imported (update_resources_interval...): it is read first, as nova-compute does, then
    # forgotten, for each child reads its own.
    conf = importlib.import_module("nova.conf").CONF
    conf(["--config-file", confs[0]], project="nova", default_config_files=[])
    for name in ("nova.compute.manager", "nova.virt.fake"):
        importlib.import_module(name)  # the heavy imports, shared by every child
    conf.clear()

    gc.collect()
    gc.freeze()
    children: dict[int, str] = {}
    stopping = False

    def spawn(conf: str) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                log = os.open(logdir / f"nova-compute-{Path(conf).stem}.log",
                              os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
                os.dup2(log, 1)
                os.dup2(log, 2)
                sys.argv = ["nova-compute", "--config-file", conf]
                compute.main()
            except BaseException:
                traceback.print_exc()  # into its log: the reason it stopped
            finally:
                os._exit(1)
        children[pid] = conf

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for conf in confs:
        spawn(conf)
    exits: dict[str, float] = {}
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        conf = children.pop(pid, "")
        if stopping or not conf:
            continue
        # Start it again, not faster than every 5 s per service.
        delay = max(0.0, 5.0 - (time.monotonic() - exits.get(conf, 0.0)))
        exits[conf] = time.monotonic() + delay
        time.sleep(delay)
        if not stopping:
            spawn(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
