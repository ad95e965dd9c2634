"""ex_6_2: gather over 1,000,000 no-op coroutines, without the eager task factory.

The chapter's listing opens with 'Before running task group!' (copied from ex_6_1); the book's
own test of this exercise expects 'Before running gather!' and four printed lines, the last
the gathered future. This script, like the Rust port, prints those four.
"""

import asyncio
import time

import _harness


async def light_coro():
    pass


async def main(tasks=1000000):
    print('Before running gather!')
    tasks_list = [light_coro() for _ in range(tasks)]
    time0 = time.time()
    gathered = asyncio.gather(*tasks_list)
    await gathered
    elapsed = time.time() - time0
    _harness.record(elapsed)
    print(f'It took {elapsed} to run!')
    print('After running gather without eager task factory!')
    print(f"tasks: {gathered}")


if __name__ == '__main__':
    _harness.main(lambda tasks: asyncio.run(main(tasks)), name="ex_6_2", default_tasks=1000000)
