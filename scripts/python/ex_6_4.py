"""ex_6_4: a put after Queue.shutdown() raises QueueShutDown (Python 3.13+)."""

import asyncio
import time

import _harness


async def main():
    queue = asyncio.Queue()
    await queue.put(1)
    queue.shutdown()
    await queue.put(2)


async def timed():
    start = time.perf_counter()
    try:
        await main()
    finally:
        _harness.record(time.perf_counter() - start)


if __name__ == '__main__':
    _harness.main(lambda _tasks: asyncio.run(timed()), name="ex_6_4", needs=(3, 13))
