"""ex_6_3: asyncio.current_task() called 1,000,000 times (a C function since Python 3.12)."""

import asyncio
import time

import _harness


async def main(calls=10 ** 6):
    t1 = time.time()
    for _ in range(calls):
        asyncio.current_task()
    t2 = time.time()
    _harness.record(t2 - t1)
    print(f'It took {t2-t1}s')


if __name__ == '__main__':
    _harness.main(lambda calls: asyncio.run(main(calls)), name="ex_6_3", default_tasks=10 ** 6)
