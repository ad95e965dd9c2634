"""suspend_once: ex_6_1 with light_coro suspending once (one await asyncio.sleep(0)), 1,000,000 tasks.

ex_6_1's light_coro finishes in its first step, so the eager task factory never schedules a
task. Here each coroutine awaits asyncio.sleep(0) once: it suspends, and the loop runs it again
at its next turn. The eager factory still runs each coroutine inside create_task, up to its
sleep, and then has to schedule it like any other task.

--variant picks how the tasks run (the other flags are the shared harness's, as ex_6_1.py has
them):

- eager (default): the chapter's ex_6_1, the sleep aside: a TaskGroup with the eager task
  factory (Python 3.12+).
- scheduled: the same TaskGroup without the factory (3.11+).
- gather: asyncio.gather of the coroutines, without the factory (3.8+). The coroutines are made
  inside the timed span, as the TaskGroup makes its tasks there (ex_6_2 makes them before).

A result written with --json names the variant after the loop, as every script's does
(asyncio, uvloop, asyncio_gc_off), with the variant added after the loop's name when it is not
the default: asyncio_scheduled, uvloop_gather, asyncio_gather_gc_off (``_harness.main_variants``).
"""

import asyncio
import functools
import time

import _harness
import ex_6_1

NAME = "suspend_once"
VARIANTS = ("eager", "scheduled", "gather")
# The oldest Python each variant runs on: the eager task factory is 3.12's, TaskGroup 3.11's.
NEEDS = {"eager": (3, 12), "scheduled": (3, 11), "gather": _harness.FLOOR}
# What --help says of the script (the harness adds the flags it reads itself).
ABOUT = "ex_6_1 with each task suspending once (await asyncio.sleep(0))"
VARIANT_HELP = f"""\
  --variant NAME  {'|'.join(VARIANTS)} (default eager): TaskGroup with the eager task factory,
                  TaskGroup without it, or asyncio.gather
"""


async def light_coro():
    await asyncio.sleep(0)


async def main_gather(tasks=1000000):
    print('Before running gather!')
    time0 = time.time()
    await asyncio.gather(*[light_coro() for _ in range(tasks)])
    elapsed = time.time() - time0
    _harness.record(elapsed)
    print(f'It took {elapsed} to run!')
    print('After running gather without eager task factory!')


# eager and scheduled: ex_6_1.py's main (the chapter's TaskGroup, with the eager task factory
# or without it), run with the light_coro above.
MAINS = {
    "eager": functools.partial(ex_6_1.main, light_coro=light_coro),
    "scheduled": functools.partial(ex_6_1.main, eager=False, light_coro=light_coro),
    "gather": main_gather,
}


if __name__ == '__main__':
    _harness.main_variants(
        {v: (lambda tasks, run=MAINS[v]: asyncio.run(run(tasks))) for v in VARIANTS},
        name=NAME, needs=NEEDS, about=ABOUT, variant_help=VARIANT_HELP, default_tasks=1000000,
    )
