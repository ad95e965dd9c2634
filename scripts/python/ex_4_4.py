"""ex_4_4: asyncio.Barrier of three tasks and its states (Python 3.11+)."""

import asyncio
import time

import _harness


async def example_barrier():
    start = time.perf_counter()
    b = asyncio.Barrier(3)
    asyncio.create_task(b.wait())
    asyncio.create_task(b.wait())
    await asyncio.sleep(0)
    print(b)
    await b.wait()
    print(b)
    print("barrier passed")
    await asyncio.sleep(0)
    print(b)
    _harness.record(time.perf_counter() - start)


if __name__ == '__main__':
    _harness.main(lambda _tasks: asyncio.run(example_barrier()), name="ex_4_4", needs=(3, 11))
