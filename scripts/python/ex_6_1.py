"""ex_6_1: a TaskGroup of 1,000,000 no-op tasks with the eager task factory (Python 3.12+).

--variant picks how the tasks run (the other flags are the shared harness's):

- eager (default): the chapter's ex_6_1, a TaskGroup with the eager task factory (3.12+).
- scheduled: the same TaskGroup without the factory (3.11+): every task scheduled, as before
  3.12. What the factory saves where coroutines finish at once, beside suspend_once.py, where
  they suspend.
"""

import asyncio
import functools
import time

import _harness

NAME = "ex_6_1"
VARIANTS = ("eager", "scheduled")
# The oldest Python each variant runs on: the eager task factory is 3.12's, TaskGroup 3.11's.
NEEDS = {"eager": (3, 12), "scheduled": (3, 11)}
# What --help says of the script (the harness adds the flags it reads itself).
ABOUT = "a TaskGroup of no-op tasks, with or without the eager task factory"
VARIANT_HELP = f"""\
  --variant NAME  {'|'.join(VARIANTS)} (default eager): TaskGroup with the eager task factory,
                  or without it
"""


async def light_coro():
    pass


async def main(tasks=1000000, eager=True, light_coro=light_coro):
    # The chapter's main. eager=False leaves the factory out (--variant scheduled), and
    # suspend_once.py runs it with a light_coro of its own.
    print('Before running task group!')
    time0 = time.time()
    if eager:
        asyncio.get_event_loop().set_task_factory(asyncio.eager_task_factory)
    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(light_coro())
    elapsed = time.time() - time0
    _harness.record(elapsed)
    print(f'It took {elapsed} to run!')
    print(f"After running task group {'with' if eager else 'without'} eager task factory!")


MAINS = {"eager": main, "scheduled": functools.partial(main, eager=False)}


if __name__ == '__main__':
    _harness.main_variants(
        {v: (lambda tasks, run=MAINS[v]: asyncio.run(run(tasks))) for v in VARIANTS},
        name=NAME, needs=NEEDS, about=ABOUT, variant_help=VARIANT_HELP, default_tasks=1000000,
    )
