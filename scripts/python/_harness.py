"""The flags and the timing result every Python exercise shares (standard library only).

Each exercise script defines ``run(tasks)``, which does what the chapter's code does, prints
what it prints, and calls ``record(seconds)`` with the span the Rust port times too. The
harness reads ``--tasks N``, ``--repeat N`` and ``--json PATH``, calls ``run`` that many times,
and writes the samples in the timing crate's JSON schema (``asyncio-in-tokio/timing/v1``).

Two more flags change how the chapter's unchanged code is run, never the code itself:

- ``--loop asyncio|uvloop|rloop`` (default ``asyncio``, the standard loop). With another loop,
  ``asyncio.run(main)`` runs as ``asyncio.Runner(loop_factory=<library>.new_event_loop)``,
  which is what ``asyncio.run`` itself does with a loop factory, and the way both libraries
  document for Python 3.11+; on 3.10, which has no ``Runner``, the library's event loop
  policy is installed instead, as both document for older Pythons. The library must be
  importable (the runner installs it into a venv of its own).
- ``--gc on|off`` (default ``on``): ``off`` calls ``gc.disable()`` before each run, the knob
  Python users reach for when many objects are made at once.

The result's ``variant`` says which: ``asyncio``, ``uvloop``, ``rloop``, with ``_gc_off``
appended when the collector was off.

Bad flags get one line on stderr and exit code 2, as in the Rust exercises. A run that raises
after recording its time (``ex_6_4``, whose point is the exception) is repeated, the result is
written, and the last exception then ends the program as it would the original.
"""

import asyncio
import gc
import json
import os
import platform
import resource
import secrets
import sys

SCHEMA = "asyncio-in-tokio/timing/v1"
MAX_TASKS = 1_000_000_000
MAX_REPEAT = 1_000_000
LOOPS = ("asyncio", "uvloop", "rloop")
GC = ("on", "off")
# The oldest Python the harness runs on; a script says when it needs a newer one.
FLOOR = (3, 8)

_samples_ns = []


def record(seconds):
    """Records one measured span, in seconds, for the JSON result."""
    _samples_ns.append(max(0, round(seconds * 1e9)))


def _fail(name, message):
    print(f"{name}: {message}", file=sys.stderr)
    sys.exit(2)


def _number(name, flag, value, top):
    try:
        n = int(value.replace("_", ""))
    except ValueError:
        n = 0
    if not 1 <= n <= top:
        _fail(name, f"{flag} needs a whole number from 1 to {top}, got '{value}'")
    return n


def _parse(name, argv, default_tasks):
    known = FLAGS
    flags = ", ".join(f for f in known if default_tasks or f != "--tasks")
    opts = {"tasks": default_tasks, "repeat": 1, "json": None, "loop": "asyncio", "gc": "on"}
    seen = set()
    args = list(argv)
    while args:
        arg = args.pop(0)
        flag, _, inline = arg.partition("=")
        if flag not in known or (flag == "--tasks" and not default_tasks):
            what = f"unknown flag '{flag}'" if arg.startswith("-") else f"unexpected argument '{arg}'"
            _fail(name, f"{what}; valid flags: {flags}")
        if flag in seen:
            _fail(name, f"{flag} is given twice; give it once")
        seen.add(flag)
        value = inline if "=" in arg else (args.pop(0) if args else None)
        if value is None:
            _fail(name, f"{flag} needs a value")
        if flag == "--tasks":
            opts["tasks"] = _number(name, flag, value, MAX_TASKS)
        elif flag == "--repeat":
            opts["repeat"] = _number(name, flag, value, MAX_REPEAT)
        elif flag in ("--loop", "--gc"):
            valid = LOOPS if flag == "--loop" else GC
            if value not in valid:
                _fail(name, f"{flag} takes one of {', '.join(valid)}, got '{value}'")
            opts[flag[2:]] = value
        else:
            folder = os.path.dirname(value) or "."
            if not value or value.endswith("/") or not os.path.isdir(folder):
                _fail(name, f"--json '{value}' is not a file path in an existing folder")
            opts["json"] = value
    return opts


def _quantile(ordered, q):
    """Nearest-rank quantile of sorted values."""
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[min(len(ordered), int(rank)) - 1]


def summary(samples, work):
    """The timing crate's summary fields, from exact order statistics."""
    ordered = sorted(samples)
    n = len(ordered)
    mean = sum(ordered) / n if n else 0.0
    var = sum((s - mean) ** 2 for s in ordered) / n if n else 0.0
    at = (lambda q: _quantile(ordered, q)) if n else (lambda q: 0)
    return {
        "count": n,
        "min_ns": ordered[0] if n else 0,
        "p50_ns": at(0.50),
        "p90_ns": at(0.90),
        "p99_ns": at(0.99),
        "p999_ns": at(0.999),
        "max_ns": ordered[-1] if n else 0,
        "mean_ns": mean,
        "stdev_ns": var ** 0.5,
        "work": work,
        "per_item_ns": mean / work if work else None,
    }


def implementation():
    """``cpython-3.12.1``; ``cpython-3.14.0t`` free-threaded; ``pypy-7.3.11`` (PyPy's own release)."""
    pypy = getattr(sys, "pypy_version_info", None)
    if pypy is not None:
        return "pypy-%d.%d.%d" % tuple(pypy[:3])
    import sysconfig

    threaded = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    return f"{platform.python_implementation().lower()}-{platform.python_version()}{threaded}"


def variant(loop, gc_state):
    """``asyncio``, ``uvloop``, ``rloop``; ``asyncio_gc_off`` with the collector off."""
    return loop if gc_state == "on" else f"{loop}_gc_off"


def _use_loop(name, loop):
    """Makes the chapter's ``asyncio.run(main)`` run on ``loop``, as its library documents."""
    if loop == "asyncio":
        return
    try:
        library = __import__(loop)
    except ImportError as e:
        _fail(name, f"--loop {loop}: {loop} is not installed for this Python ({e})")
    if sys.version_info >= (3, 11):

        def factory():
            loop = library.new_event_loop()
            _loops_made.append(type(loop))
            return loop

        def run(main, *, debug=None):
            with asyncio.Runner(debug=debug, loop_factory=factory) as runner:
                return runner.run(main)

        asyncio.run = run
    else:

        class Policy(library.EventLoopPolicy):
            def new_event_loop(self):
                loop = super().new_event_loop()
                _loops_made.append(type(loop))
                return loop

        asyncio.set_event_loop_policy(Policy())


# The classes of the loops ``--loop`` made: checked after the runs, so that a row named after a
# loop was measured on it.
_loops_made = []


def _check_loop(name, loop):
    if loop == "asyncio":
        return
    foreign = [k for k in _loops_made if not k.__module__.startswith(loop)]
    if not _loops_made or foreign:
        _fail(name, f"--loop {loop}: the exercise did not run on {loop}'s loop (made: {_loops_made})")


def _write(path, name, tasks, variant_name):
    result = {
        "schema": SCHEMA,
        "exercise": name,
        "variant": variant_name,
        "implementation": implementation(),
        "flavor": None,
        "tasks": tasks,
        "samples_ns": _samples_ns,
        "summary": summary(_samples_ns, tasks),
        # ru_maxrss is in kilobytes on Linux.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "start_latency": None,
    }
    folder = os.path.dirname(path) or "."
    # The temporary file is new, under a name no one can guess, and never opened through a
    # link: a link planted beside the result cannot make this write anywhere else.
    for _ in range(16):
        tmp = os.path.join(folder, f".{os.path.basename(path)[:64]}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name beside {path}")
    with os.fdopen(fd, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


# The flags the harness reads, each with its value (what a script with variants passes on).
FLAGS = ("--tasks", "--repeat", "--json", "--loop", "--gc")


def take_variant(name, variants, argv):
    """The ``--variant`` in ``argv`` (the first of ``variants`` when none) and the flags left
    for the harness; ``None`` for the variant when help was asked for."""
    chosen, rest = None, []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--help", "-h"):
            return None, rest
        flag, eq, inline = arg.partition("=")
        if flag in FLAGS:
            rest.append(arg)
            if not eq and args:
                rest.append(args.pop(0))  # its value, whatever it looks like
            continue
        if flag != "--variant":
            what = f"unknown flag '{flag}'" if arg.startswith("-") else f"unexpected argument '{arg}'"
            flags = ", ".join(("--variant",) + FLAGS + ("--help",))
            _fail(name, f"{what}; valid flags: {flags}")
        if chosen is not None:
            _fail(name, "--variant is given twice; give it once")
        value = inline if eq else (args.pop(0) if args else None)
        if value is None:
            _fail(name, "--variant needs a value")
        if value not in variants:
            _fail(name, f"--variant takes one of {', '.join(variants)}, got {value!r}")
        chosen = value
    return chosen or variants[0], rest


def usage(name, about, variant_help, default_tasks=None):
    """``--help`` of a script with variants: ``name: about``, the usage line, the script's own
    ``variant_help`` (its ``--variant`` lines), then the harness's flags."""
    tasks = default_tasks is not None
    flags = ["[--variant NAME]"] + (["[--tasks N]"] if tasks else [])
    flags += ["[--repeat N]", "[--json PATH]", "[--loop NAME]", "[--gc on|off]"]
    lines = [f"{name}: {about}", "", f"usage: {name}.py {' '.join(flags)}", "", variant_help.rstrip("\n")]
    if tasks:
        lines.append(f"  --tasks N       how many tasks (1 to {MAX_TASKS}; default {default_tasks})")
    lines += [
        f"  --repeat N      run the measured body N times (1 to {MAX_REPEAT}; default 1)",
        "  --json PATH     write the timing result as JSON to PATH",
        f"  --loop NAME     {'|'.join(LOOPS)}: the event loop (default asyncio)",
        "  --gc on|off     off: gc.disable() before each run (default on)",
    ]
    return "\n".join(lines) + "\n"


def main_variants(mains, *, name, needs, about, variant_help, default_tasks=None):
    """``main`` for a script with several ways to run, picked with ``--variant`` (``mains``:
    variant -> ``run(tasks)``, its default first; ``needs``: variant -> oldest Python;
    ``about`` and ``variant_help``: what ``--help`` says of the script, see ``usage``).

    A result written with --json names the variant after the loop, as ``variant`` does, with
    the chosen variant added after the loop's name when it is not the default
    (asyncio_scheduled, uvloop_gather, asyncio_gather_gc_off)."""
    global variant
    variants = tuple(mains)
    chosen, rest = take_variant(name, variants, sys.argv[1:])
    if chosen is None:
        print(usage(name, about, variant_help, default_tasks), end="")
        sys.exit(0)
    sys.argv[1:] = rest
    if chosen != variants[0]:
        loop_named = variant
        variant = lambda loop, gc_state: loop_named(f"{loop}_{chosen}", gc_state)  # noqa: E731
    main(mains[chosen], name=name, needs=needs[chosen], default_tasks=default_tasks)


def main(run, *, name, needs=FLOOR, default_tasks=None):
    """Parses the flags, checks the interpreter, runs ``run`` and writes ``--json``."""
    opts = _parse(name, sys.argv[1:], default_tasks)
    if sys.version_info[:2] < needs:
        _fail(name, f"needs Python {needs[0]}.{needs[1]} or newer; this is {platform.python_version()}")
    _use_loop(name, opts["loop"])
    if opts["gc"] == "off":
        gc.disable()
    failure = None
    for _ in range(opts["repeat"]):
        before = len(_samples_ns)
        try:
            run(opts["tasks"])
        except Exception as e:  # noqa: BLE001 - re-raised below, as the original would
            if len(_samples_ns) == before:
                raise
            failure = e
    _check_loop(name, opts["loop"])
    if opts["json"] and _samples_ns:
        _write(opts["json"], name, opts["tasks"], variant(opts["loop"], opts["gc"]))
    if failure is not None:
        raise failure
