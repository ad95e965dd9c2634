"""ex_2_7: asyncio.TaskGroup with two sleeping tasks (Python 3.11+)."""

import asyncio
import time

import _harness


async def sleep_coro(delay):
    print(f'Started sleeping for {delay} seconds!')
    await asyncio.sleep(delay)
    print(f'Finished sleeping for {delay} seconds!')
    return delay


async def main():
    print('Before running task group!')
    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        task1 = tg.create_task(sleep_coro(2))
        task2 = tg.create_task(sleep_coro(3))
    _harness.record(time.perf_counter() - start)
    print('After running task group!')
    print(f"task1: {task1.result()}, task2: {task2.result()}")


if __name__ == '__main__':
    _harness.main(lambda _tasks: asyncio.run(main()), name="ex_2_7", needs=(3, 11))
