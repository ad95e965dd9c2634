"""The flags and the timing result every Python exercise shares (standard library only).

Each exercise script defines ``run(tasks)``, which does what the chapter's code does, prints
what it prints, and calls ``record(seconds)`` with the span the Rust port times too. The
harness reads ``--tasks N``, ``--repeat N`` and ``--json PATH``, calls ``run`` that many times,
and writes the samples in the timing crate's JSON schema (``asyncio-in-tokio/timing/v1``).

Bad flags get one line on stderr and exit code 2, as in the Rust exercises. A run that raises
after recording its time (``ex_6_4``, whose point is the exception) is repeated, the result is
written, and the last exception then ends the program as it would the original.
"""

import json
import os
import platform
import resource
import sys

SCHEMA = "asyncio-in-tokio/timing/v1"
MAX_TASKS = 1_000_000_000
MAX_REPEAT = 1_000_000

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
    flags = "--tasks, --repeat, --json" if default_tasks else "--repeat, --json"
    opts = {"tasks": default_tasks, "repeat": 1, "json": None}
    seen = set()
    args = list(argv)
    while args:
        arg = args.pop(0)
        flag, _, inline = arg.partition("=")
        if flag not in ("--tasks", "--repeat", "--json") or (flag == "--tasks" and not default_tasks):
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
    """``cpython-3.12.1``."""
    return f"{platform.python_implementation().lower()}-{platform.python_version()}"


def _write(path, name, tasks):
    result = {
        "schema": SCHEMA,
        "exercise": name,
        "variant": "asyncio",
        "implementation": implementation(),
        "flavor": None,
        "tasks": tasks,
        "samples_ns": _samples_ns,
        "summary": summary(_samples_ns, tasks),
        # ru_maxrss is in kilobytes on Linux.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "start_latency": None,
    }
    tmp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(run, *, name, needs=(3, 10), default_tasks=None):
    """Parses the flags, checks the interpreter, runs ``run`` and writes ``--json``."""
    opts = _parse(name, sys.argv[1:], default_tasks)
    if sys.version_info[:2] < needs:
        _fail(name, f"needs Python {needs[0]}.{needs[1]} or newer; this is {platform.python_version()}")
    failure = None
    for _ in range(opts["repeat"]):
        before = len(_samples_ns)
        try:
            run(opts["tasks"])
        except Exception as e:  # noqa: BLE001 - re-raised below, as the original would
            if len(_samples_ns) == before:
                raise
            failure = e
    if opts["json"] and _samples_ns:
        _write(opts["json"], name, opts["tasks"])
    if failure is not None:
        raise failure
