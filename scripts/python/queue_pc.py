"""queue_pc: 1,000,000 items through asyncio.Queue(maxsize=100), one producer task, one consumer task.

Not a listing of the chapter: the classic use of the queue whose shutdown ex_6_4 shows, timed
so the Rust port's cost per item can be set beside CPython's.
"""

import asyncio
import time

import _harness

MAXSIZE = 100


async def producer(queue, items):
    for i in range(items):
        await queue.put(i)


async def consumer(queue, items):
    total = 0
    for _ in range(items):
        total += await queue.get()
    return total


async def main(items=10 ** 6):
    queue = asyncio.Queue(maxsize=MAXSIZE)
    t1 = time.perf_counter()
    put_all = asyncio.create_task(producer(queue, items))
    total = await asyncio.create_task(consumer(queue, items))
    await put_all
    t2 = time.perf_counter()
    assert total == items * (items - 1) // 2, total
    _harness.record(t2 - t1)
    print(f'Passed {items} items through Queue(maxsize={MAXSIZE}) in {t2 - t1}s')


if __name__ == '__main__':
    _harness.main(lambda items: asyncio.run(main(items)), name="queue_pc", default_tasks=10 ** 6)
