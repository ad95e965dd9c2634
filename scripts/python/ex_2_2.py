"""ex_2_2: asyncio.Runner (Python 3.11+)."""

import asyncio
import time

import _harness


async def async_sleep_for_one_second():
    print('stared sleeping for 1 second!')
    await asyncio.sleep(1)
    print('Finished sleeping!')


def run(_tasks):
    start = time.perf_counter()
    with asyncio.Runner() as runner:
        runner.run(async_sleep_for_one_second())
    _harness.record(time.perf_counter() - start)


if __name__ == '__main__':
    _harness.main(run, name="ex_2_2", needs=(3, 11))
