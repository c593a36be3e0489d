"""Run the performance benchmarks of issue 7 and print one line per target.

    python benchmarks/run.py                     # the issue's sizes (100,000 senders, ...)
    python benchmarks/run.py --quick             # fewer repeats, no 100,000-recipient send
    python benchmarks/run.py --only P1,P3,P7     # some targets
    python benchmarks/run.py --db /tmp/bench.sqlite3   # seed a file once, reuse it
    python benchmarks/run.py --only P12          # issue 13: seed 1,000,000 messages of history
    python benchmarks/run.py --history           # every target, P10-P12 too
    python benchmarks/run.py --only P10,P11      # issue 13: export and health of 1,000,000 messages
    python benchmarks/run.py --latency           # issue 15: P9-P16 at 100 ms
    python benchmarks/run.py --latency --quick   # the same, P13 over 100,000 messages

A sandbox server is started on 127.0.0.1 (the embedded emulator over real HTTP, in memory
unless ``--db`` is given), seeded with ``--senders`` senders. Each line shows the measured
medians, the ratio, the target and PASS or MISS (a MISS is a finding, not a crash: the exit
status is 0 unless a benchmark fails to run). Times are wall-clock medians; compared runs
are interleaved in one process, so the ratios hold on a busy machine.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import Line, Sizes, serve

# P2 (the naive load at pageSize 50 vs load_senders, on loopback) is retired: it measured
# the sandbox server's 2,000 answers, not the client (README, "Performance").
TARGETS = ("P1", "P3", "P4", "P5", "P6", "P7", "P8", "PAGE")
# Run only when asked (--history or --only P10 / P11 / P12): seeding a million messages
# takes a while.
ON_REQUEST = ("P10", "P11", "P12")
# Run only when asked (--latency or --only P9,...): a realistic round trip (100 ms), a
# million messages for P13.
LATENCY = ("P9", "P9-429", "P13", "P14", "P15", "P16")
QUICK_MESSAGES = 100_000
SERVED = {"P1", "P3", "P4", "P5", "P6", "P8", "PAGE"}  # the targets that need a server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    sizes = Sizes()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=sizes.senders)
    parser.add_argument("--growth-from", type=int, default=sizes.growth_from)
    parser.add_argument("--pool-size", type=int, default=sizes.pool_size)
    parser.add_argument("--recipients", type=int, default=sizes.recipients)
    parser.add_argument("--recipients-growth", type=int, default=sizes.recipients_growth)
    parser.add_argument("--frame-rows", type=int, default=sizes.frame_rows)
    parser.add_argument("--repeats", type=int, default=sizes.repeats)
    parser.add_argument("--import-runs", type=int, default=sizes.import_runs)
    parser.add_argument(
        "--history-messages",
        type=int,
        default=sizes.history_messages,
        help="P12: messages of history to seed (default 1,000,000)",
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="also run P10, P11 and P12 (the sandbox's traffic history)",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="also run P9, P9-429, P13, P14, P15 and P16 (a 100 ms round trip; issue 15)",
    )
    parser.add_argument("--db", help="SQLite file for the big sandbox (default: in memory)")
    parser.add_argument("--only", help="comma-separated targets, e.g. P1,P3,PAGE")
    parser.add_argument("--no-growth", action="store_true", help="skip the P1 and P6 growth lines")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 repeats, 5 import runs, no growth lines, P13 over 100,000 messages (a smoke "
        "run, not a measurement)",
    )
    return parser.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    """The sizes the arguments ask for."""
    sizes = Sizes(
        senders=args.senders,
        growth_from=args.growth_from,
        pool_size=args.pool_size,
        recipients=args.recipients,
        recipients_growth=args.recipients_growth,
        frame_rows=args.frame_rows,
        repeats=args.repeats,
        import_runs=args.import_runs,
        history_messages=args.history_messages,
    )
    if args.quick:
        sizes = replace(sizes, repeats=min(sizes.repeats, 2), import_runs=min(args.import_runs, 5))
        if args.latency and args.history_messages == Sizes().history_messages:
            sizes = replace(sizes, history_messages=QUICK_MESSAGES)
    return sizes


def run(argv: list[str] | None = None, out: Callable[[str], None] = print) -> list[Line]:
    """Run the benchmarks; print each line as it is measured; return them all."""
    from benchmarks import history, imports, inventory, latency, sends, traffic

    args = parse_args(argv)
    sizes = sizes_of(args)
    wanted = set(TARGETS if not args.only else args.only.upper().split(","))
    if args.history:
        wanted.update(ON_REQUEST)
    if args.latency:
        wanted.update(LATENCY)
    growth = not (args.no_growth or args.quick)
    lines: list[Line] = []
    failed: list[str] = []

    def report(line: Line) -> None:
        lines.append(line)
        out(line.render())

    def attempt(key: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            failed.append(key)
            report(Line(key, "crashed", traceback.format_exc().strip().splitlines()[-1], "FAIL"))
            traceback.print_exc()

    out(
        f"commstoolkit benchmarks: {sizes.senders:,} senders, {sizes.repeats} repeats, "
        f"python {sys.version.split()[0]}"
    )
    if "P7" in wanted:
        attempt("P7", lambda: report(imports.p7(sizes)))
    if "P12" in wanted:
        attempt("P12", lambda: report(history.p12(sizes)))
    if wanted & {"P10", "P11"}:

        def export_and_health() -> None:
            for line in traffic.p10_p11(sizes):
                report(line)

        attempt("P10", export_and_health)
    if wanted & {"P9", "P9-429", "P14", "P15", "P16"}:

        def at_latency() -> None:
            for line in latency.inventory_lines(sizes, wanted):
                report(line)

        attempt("P9-P16", at_latency)
    if "P13" in wanted:

        def export_at_latency() -> None:
            for line in latency.p13(sizes):
                report(line)

        attempt("P13", export_at_latency)
    if not wanted & SERVED:
        return _done(lines, failed, out)
    started = time.perf_counter()
    with serve(sizes.senders, args.db) as server:
        out(f"(sandbox server {server.base_url} ready in {time.perf_counter() - started:.1f} s)")
        state: dict[str, object] = {}

        def first() -> None:
            line, frame, load_seconds = inventory.p1(server, sizes)
            state.update(frame=frame, load_seconds=load_seconds)
            report(line)

        def frame() -> Any:
            if "frame" not in state:
                state["frame"] = inventory.load_once(server)
            return state["frame"]

        if "P1" in wanted:
            attempt("P1", first)
        if "P1" in wanted and growth and "load_seconds" in state:

            def grow() -> None:
                with serve(sizes.growth_from) as small:
                    report(inventory.p1_growth(small, state["load_seconds"], sizes.senders, sizes))

            attempt("P1-grow", grow)
        if "PAGE" in wanted:
            attempt("PAGE", lambda: report(inventory.page_position(server, sizes)))
        if "P3" in wanted:
            attempt("P3", lambda: report(inventory.p3(frame(), sizes)))
        if "P4" in wanted:
            attempt("P4", lambda: report(inventory.p4(server, frame(), sizes)))
        if "P5" in wanted:
            attempt("P5", lambda: report(sends.p5(server, frame(), sizes)))
        if "P6" in wanted:

            def send() -> None:
                line, total, pool_id = sends.p6(server, frame(), sizes)
                report(line)
                if growth:
                    report(sends.p6_growth(server, pool_id, total, sizes))

            attempt("P6", send)
        if "P8" in wanted:
            attempt("P8", lambda: report(inventory.p8(server, sizes)))
    return _done(lines, failed, out)


def _done(lines: list[Line], failed: list[str], out: Callable[[str], None]) -> list[Line]:
    """Print the closing line; return the lines."""
    misses = [line.key for line in lines if line.verdict == "MISS"]
    out(
        f"done: {sum(line.verdict == 'PASS' for line in lines)} PASS, {len(misses)} MISS"
        + (f" ({', '.join(misses)})" if misses else "")
        + (f", {len(failed)} FAILED to run ({', '.join(failed)})" if failed else "")
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 when every benchmark ran (whatever it measured), 1 if one crashed."""
    lines = run(argv)
    return 1 if any(line.verdict == "FAIL" for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
