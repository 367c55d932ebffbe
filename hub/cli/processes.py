"""Running the hub's processes: API, router and dispatcher, alone or together in one process."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, TextIO

import structlog
import uvicorn

from hub.aftercare import open311_sync, scheduler
from hub.aftercare.status import StatusConsumer
from hub.core import privacy
from hub.http.app import create_app
from hub.pipeline.dispatcher import Dispatcher
from hub.pipeline.routing import Router
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.cli.processes")


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT finish the message in hand, then stop consuming."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


@contextmanager
def workers(hub: Hub, routers: int = 1, dispatchers: int = 1,
            sla_interval: float | None = None) -> Iterator[threading.Event]:
    """Router, dispatcher and status threads for one process (the embedded default and the demo);
    with `sla_interval`, the SLA scheduler too (escalations, Open311 status pulls)."""
    hub.bus().declare(hub.delivery_queues())
    stop = threading.Event()
    threads = [threading.Thread(target=Router(hub).run, args=(stop,), name=f"router-{i}", daemon=True)
               for i in range(routers)]
    threads += [threading.Thread(target=Dispatcher(hub).run, args=(stop,), name=f"dispatcher-{i}", daemon=True)
                for i in range(dispatchers)]
    threads += [threading.Thread(target=StatusConsumer(hub).run, args=(stop,), name="status", daemon=True)]
    if sla_interval:
        threads.append(threading.Thread(target=scheduler.run, args=(hub, stop, sla_interval),
                                        kwargs={"extra": [lambda: open311_sync.pull_all(hub)]},
                                        name="scheduler", daemon=True))
    for t in threads:
        t.start()
    try:
        yield stop
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)


class ApiServer:
    """uvicorn in a background thread, stoppable; used by `serve` and the demo."""

    def __init__(self, hub: Hub, host: str = "127.0.0.1", port: int = 8000) -> None:
        config = uvicorn.Config(create_app(hub), host=host, port=port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    def start(self) -> "ApiServer":
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.05)
        return self

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def run_api(hub: Hub, host: str, port: int) -> None:
    uvicorn.run(create_app(hub), host=host, port=port, log_level="info")


def run_worker(worker: Router | Dispatcher) -> None:
    stop = threading.Event()
    stop_on_signals(stop)
    worker.run(stop)


def address(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server bound to host:port."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def serve(hub: Hub, host: str, port: int, sla_interval: float | None = 60.0, out: TextIO = sys.stdout) -> None:
    """Everything in one process, the SLA scheduler included unless `sla_interval` is None: the
    embedded default needs nothing else running."""
    with workers(hub, sla_interval=sla_interval):
        log.info("serve.started", host=host, port=port, broker=privacy.redact_urls_in(hub.settings.broker_url),
                 database=privacy.redact_urls_in(hub.settings.database_url), sla_scheduler=bool(sla_interval))
        base = address(host, port)
        print(f"LaporHub serving at {base} (console {base}/admin, API {base}/docs); Ctrl-C stops it",
              file=out, flush=True)
        uvicorn.run(create_app(hub), host=host, port=port, log_level="info")
