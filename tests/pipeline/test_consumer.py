"""The dispatcher's consuming thread never waits for delivery work (issue 10): while a delivery
is in hand, pausing its destination cancels the queue's consumer at once and the loop keeps
turning (on RabbitMQ it keeps sending heartbeats and acking); the message in hand is acked when
its work ends, and what was not handed out goes back to the queue."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future

from kombu import Queue

from hub.infra.bus import Bus, Topology
from hub.pipeline.consumer import Consumer
from tests.harness import wait_for


def test_pausing_a_queue_with_work_in_hand_does_not_stop_the_loop_and_the_work_is_acked_after() -> None:
    topo = Topology(f"consumer-{uuid.uuid4().hex[:6]}")
    queue: Queue = topo.delivery("slow-operator")
    bus = Bus("memory://localhost/", topo)
    bus.declare([queue])
    for n in range(3):
        bus.publish("delivery", "slow-operator", f'{{"n": {n}}}', message_id=f"m-{n}")
    work: list[Future[str]] = []
    turns = [0]
    wanted = [[queue]]

    def handle(message: object) -> Future[str]:
        future: Future[str] = Future()
        work.append(future)
        return future

    def idle() -> None:
        turns[0] += 1

    consumer = Consumer(Bus("memory://localhost/", topo), handle, prefetch=1, idle=idle)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(lambda: wanted[0], stop), daemon=True)
    thread.start()
    wait_for(lambda: len(work) == 1)
    wanted[0] = []  # the destination is paused while its delivery is in hand
    before = turns[0]
    time.sleep(0.6)
    assert turns[0] - before >= 2, "the consuming loop kept turning while the work was in hand"
    assert len(work) == 1, "nothing more was handed out from a paused queue"
    work[0].set_result("ack")
    wait_for(lambda: consumer.in_hand() == 0)
    wanted[0] = [queue]  # resumed: the two others arrive, the first never again
    wait_for(lambda: len(work) == 2)
    work[1].set_result("ack")
    wait_for(lambda: len(work) == 3)
    work[2].set_result("ack")
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert len(work) == 3, "the acked message was not delivered again"
    bus.close()


def test_on_stop_the_work_in_hand_finishes_and_is_acked_before_the_loop_ends() -> None:
    topo = Topology(f"consumer-{uuid.uuid4().hex[:6]}")
    queue: Queue = topo.delivery("operator")
    bus = Bus("memory://localhost/", topo)
    bus.declare([queue])
    bus.publish("delivery", "operator", "{}", message_id="m-1")
    work: list[Future[str]] = []
    consumer = Consumer(Bus("memory://localhost/", topo), lambda m: work.append(Future()) or work[-1], prefetch=4)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(lambda: [queue], stop), daemon=True)
    thread.start()
    wait_for(lambda: len(work) == 1)
    stop.set()
    time.sleep(0.5)
    assert thread.is_alive(), "it waits for the work in hand, still beating"
    work[0].set_result("ack")
    thread.join(10)
    assert not thread.is_alive()
    bus.close()
