"""ex_6_1: a TaskGroup of 1,000,000 no-op tasks with the eager task factory (Python 3.12+)."""

import asyncio
import time

import _harness


async def light_coro():
    pass


async def main(tasks=1000000):
    print('Before running task group!')
    time0 = time.time()
    asyncio.get_event_loop().set_task_factory(asyncio.eager_task_factory)
    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(light_coro())
    elapsed = time.time() - time0
    _harness.record(elapsed)
    print(f'It took {elapsed} to run!')
    print('After running task group with eager task factory!')


if __name__ == '__main__':
    _harness.main(lambda tasks: asyncio.run(main(tasks)), name="ex_6_1", needs=(3, 12), default_tasks=1000000)
