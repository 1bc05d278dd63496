"""Command line: ``python -m pyrt backtest FILE.csv --strategy sma_cross
--param fast=5:50:5 --param slow=20:200:10``.

Reads a CSV with a header row: the prices from ``--column`` (default
``close``, else ``adj close``), the opens, highs and lows from ``--open``,
``--high`` and ``--low`` (default: columns of those names) when next-open
fills or stops need them, and the dates from ``--date`` (default: a column
named date, datetime, time or timestamp), all case-insensitive. Sweeps the
strategy's parameter grid with `pyrt.sweep.grid`, shows progress on stderr
and prints the best rows; ``--report`` prints backtesting.py's statistics of
the best row and ``--plot FILE`` draws it. Any bad input is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from typing import Any, Optional, Sequence

import numpy as np

from . import __version__
from .backtest import BacktestConfig, backtest_strategy
from .sweep import STRATEGIES, grid, signals as strategy_signals

EXIT_BAD_INPUT = 2

_SORT_KEYS = ("sharpe_ratio", "total_return", "max_drawdown", "win_rate", "final_equity", "num_trades")


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def parse_param(text: str) -> tuple[str, list[float]]:
    """``name=start:stop:step`` (stop included), ``name=a,b,c`` or ``name=value``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise CliError(f"--param {text!r}: expected NAME=START:STOP:STEP, NAME=A,B,C or NAME=VALUE")
    try:
        if ":" in spec:
            parts = [float(p) for p in spec.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if step <= 0 or stop < start:
                raise CliError(f"--param {text!r}: the range needs step > 0 and stop >= start")
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            values = [start + i * step for i in range(count)]
        else:
            values = [float(v) for v in spec.split(",")]
    except ValueError:
        raise CliError(f"--param {text!r}: values must be numbers (NAME=START:STOP:STEP, NAME=A,B,C or NAME=VALUE)") from None
    return name, values


_DATE_NAMES = ("date", "datetime", "time", "timestamp")


class PriceFile:
    """The columns of a price file: `close` (the --column prices), `open`,
    `high` and `low` (None when absent) and `dates` (a pandas DatetimeIndex,
    or None)."""

    def __init__(self, close: np.ndarray, open: Optional[np.ndarray], high: Optional[np.ndarray],
                 low: Optional[np.ndarray], dates: Any) -> None:
        self.close, self.open, self.high, self.low, self.dates = close, open, high, low, dates


def _pick(names: list[str], wanted: Optional[str], defaults: Sequence[str], path: str, option: str) -> Optional[int]:
    """The position of column `wanted` (case-insensitive), or of the first of
    `defaults` present when `wanted` is None; None when there is none."""
    if wanted is not None:
        if wanted.strip().lower() in ("", "none"):
            return None
        key = wanted.strip().lower()
        if key not in names:
            raise CliError(f"{option} {wanted!r}: no such column in {path} (columns: {', '.join(names)})")
        return names.index(key)
    for name in defaults:
        if name in names:
            return names.index(name)
    return None


def read_prices(path: str, column: Optional[str] = None, open_column: Optional[str] = None,
                high_column: Optional[str] = None, low_column: Optional[str] = None,
                date_column: Optional[str] = None) -> PriceFile:
    """The columns of a CSV file with a header row; column names are
    case-insensitive. The prices are `column`, by default ``close`` or else
    ``adj close``."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise CliError(f"{path}: the file is empty")
            names = [h.strip().lower() for h in header]
            close_at = _pick(names, column, ("close", "adj close"), path, "--column")
            if close_at is None:
                raise CliError(f"{path}: no 'close' column (nor 'adj close'; columns: {', '.join(names)}); "
                               "choose one with --column")
            wanted = {"close": close_at}
            for key, option, chosen in (("open", "--open", open_column), ("high", "--high", high_column),
                                        ("low", "--low", low_column)):
                at = _pick(names, chosen, (key,), path, option)
                if at is not None:
                    wanted[key] = at
            date_at = _pick(names, date_column, _DATE_NAMES, path, "--date")
            columns: dict[str, list[float]] = {n: [] for n in wanted}
            dates: list[str] = []
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                for n, j in wanted.items():
                    try:
                        columns[n].append(float(row[j]))
                    except (IndexError, ValueError):
                        cell = row[j] if j < len(row) else ""
                        raise CliError(f"{path}:{line_no}: column '{names[j]}' is not a number: {cell!r}") from None
                if date_at is not None:
                    dates.append(row[date_at] if date_at < len(row) else "")
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise CliError(f"{path}: not a valid CSV file ({exc})") from None
    if not columns["close"]:
        raise CliError(f"{path}: no data rows")
    index = None
    if date_at is not None:
        try:
            import pandas as pd
        except ImportError:
            raise CliError(f"{path}: reading the '{names[date_at]}' column needs pandas (or pass --date none)") from None
        try:
            with warnings.catch_warnings():
                # pandas warns when it parses cell by cell; a cell that does
                # not parse is the error below, so the warning adds nothing.
                warnings.simplefilter("ignore", UserWarning)
                index = pd.DatetimeIndex(pd.to_datetime(dates), name=header[date_at].strip())
        except (ValueError, TypeError) as exc:
            raise CliError(f"{path}: column '{names[date_at]}' does not hold dates ({exc}); "
                           "name the date column with --date, or pass --date none") from None
    arrays = {n: np.array(v, dtype=np.float64) for n, v in columns.items()}
    return PriceFile(arrays["close"], arrays.get("open"), arrays.get("high"), arrays.get("low"), index)


class ProgressBar:
    """A one-line progress bar on stderr."""

    def __init__(self, stream=sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def __call__(self, done: int, total: int) -> None:
        filled = int(self.width * done / total) if total else self.width
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} combinations")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pyrt",
        description="pyrt command line: parameter sweeps of built-in strategies over a CSV price file.",
    )
    parser.add_argument("--version", action="version", version=f"pyrt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bt = commands.add_parser(
        "backtest",
        help="sweep a strategy's parameter grid over a CSV file and print the best rows",
        description=(
            "Backtest every combination of the --param values (their cartesian product) on the prices "
            "of FILE (a CSV with a header row; the prices are the --column column, by default 'close' or "
            "else 'adj close'), using all cores, and print the best rows. "
            "Strategies and their parameters: "
            + "; ".join(f"{name} ({', '.join(p)})" for name, (_, p) in STRATEGIES.items())
            + ". Example: python -m pyrt backtest prices.csv --strategy sma_cross "
            "--param fast=5:50:5 --param slow=20:200:10 --commission 1 --slippage-bps 5"
        ),
    )
    bt.add_argument("file", metavar="FILE.csv", help="CSV file with a header row and a price column")
    bt.add_argument("--column", metavar="NAME",
                    help="the price column (case-insensitive; default: 'close', else 'adj close')")
    bt.add_argument("--open", metavar="NAME", help="the open column, for --fill-at next_open (default: 'open')")
    bt.add_argument("--high", metavar="NAME", help="the high column, for stops (default: 'high')")
    bt.add_argument("--low", metavar="NAME", help="the low column, for stops (default: 'low')")
    bt.add_argument("--date", metavar="NAME",
                    help="the date column, parsed into the index (default: a column named date, datetime, time "
                         "or timestamp; 'none' for no dates)")
    bt.add_argument("--strategy", required=True, choices=sorted(STRATEGIES), help="built-in strategy to sweep")
    bt.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="parameter values: START:STOP:STEP (stop included), A,B,C or a single value; repeat per parameter",
    )
    bt.add_argument("--initial-capital", type=float, default=100_000.0, help="starting cash (default 100000)")
    bt.add_argument("--commission", type=float, default=0.0, help="fixed cost per fill (default 0)")
    bt.add_argument("--slippage-bps", type=float, default=0.0, help="slippage in basis points (default 0)")
    bt.add_argument("--position-size", type=float, default=1.0, help="share of cash per position, (0, 1] (default 1)")
    bt.add_argument("--allow-short", action="store_true", help="let -1 signals open shorts")
    bt.add_argument("--periods-per-year", type=float, default=252.0, help="Sharpe annualisation (default 252)")
    bt.add_argument("--commission-rate", type=float, default=0.0,
                    help="fee as a fraction of each fill's notional, e.g. 0.001 = 0.1%% (default 0)")
    bt.add_argument("--fill-at", choices=("close", "next_open"), default="close",
                    help="fill a signal at its bar's close or at the next bar's open (default close)")
    bt.add_argument("--stop-loss", type=float, metavar="FRACTION", help="stop-loss distance, e.g. 0.05")
    bt.add_argument("--take-profit", type=float, metavar="FRACTION", help="take-profit distance, e.g. 0.1")
    bt.add_argument("--trailing-stop", type=float, metavar="FRACTION", help="trailing-stop distance, e.g. 0.08")
    bt.add_argument("--report", nargs="?", const="-", metavar="FILE",
                    help="print backtesting.py's statistics of the best row (to FILE when given)")
    bt.add_argument("--plot", metavar="FILE.png", help="draw the best row's price, trades, equity and drawdown")
    bt.add_argument("--sort-by", choices=_SORT_KEYS, default="sharpe_ratio", help="ranking of the printed rows")
    bt.add_argument("--top", type=int, default=10, help="how many rows to print (default 10)")
    bt.add_argument("--threads", type=int, default=0, help="threads (default 0: all cores)")
    bt.add_argument("--out", metavar="RESULTS.csv", help="also write every row to this CSV file")
    bt.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def format_table(rows: np.ndarray) -> str:
    names = rows.dtype.names
    cells = [list(names)]
    for row in rows:
        line = []
        for n in names:
            v = row[n]
            if n in ("total_return", "max_drawdown", "win_rate"):
                line.append(f"{v * 100:.2f}%")
            elif n == "final_equity":
                line.append(f"{v:,.2f}")
            elif isinstance(v, (np.floating, float)):
                line.append(f"{v:.4g}")
            else:
                line.append(str(v))
        cells.append(line)
    widths = [max(len(c[j]) for c in cells) for j in range(len(names))]
    return "\n".join("  ".join(c[j].rjust(widths[j]) for j in range(len(names))) for c in cells)


def write_csv(path: str, rows: np.ndarray) -> None:
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(rows.dtype.names)
            for row in rows:
                writer.writerow([repr(float(v)) if isinstance(v, np.floating) else int(v) for v in row])
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None


def run_backtest(args: argparse.Namespace) -> int:
    _, names = STRATEGIES[args.strategy]
    params = dict(parse_param(p) for p in args.param)
    missing = [n for n in names if n not in params]
    unknown = [n for n in params if n not in names]
    if missing or unknown:
        raise CliError(
            f"--param: {args.strategy} takes {', '.join(names)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    if args.top < 1:
        raise CliError("--top: must be at least 1")
    if args.threads < 0:
        raise CliError("--threads: must be >= 0")
    prices = read_prices(args.file, args.column, args.open, args.high, args.low, args.date)
    try:
        config = BacktestConfig(
            initial_capital=args.initial_capital,
            commission=args.commission,
            slippage_bps=args.slippage_bps,
            position_size=args.position_size,
            allow_short=args.allow_short,
            periods_per_year=args.periods_per_year,
            commission_rate=args.commission_rate,
            fill_at=args.fill_at,
            stop_loss=args.stop_loss,
            take_profit=args.take_profit,
            trailing_stop=args.trailing_stop,
        )
        # Only the bars the configuration needs are handed on, so an unused
        # column (unadjusted highs beside adjusted closes) is not checked.
        bars = {
            "open": prices.open if config.fill_at == "next_open" else None,
            "high": prices.high if _has_stops(config) else None,
            "low": prices.low if _has_stops(config) else None,
        }
        for name, option in (("open", "--open"), ("high", "--high"), ("low", "--low")):
            needed = (name == "open" and config.fill_at == "next_open") or (name != "open" and _has_stops(config))
            if needed and bars[name] is None:
                raise CliError(f"{option}: {args.file} has no '{name}' column; name it with {option}")
        n_combos = int(np.prod([len(v) for v in params.values()]))
        rows = grid(
            prices.close,
            args.strategy,
            params,
            config,
            **bars,
            threads=args.threads,
            chunks=min(n_combos, 50),
            progress=None if args.quiet else ProgressBar(),
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    key = rows[args.sort_by]
    order = np.argsort(key if args.sort_by == "max_drawdown" else -key, kind="stable")
    print(f"{args.strategy} on {args.file}: {len(prices.close)} bars, {len(rows)} combinations; "
          f"best {min(args.top, len(rows))} by {args.sort_by}")
    print(format_table(np.asarray(rows)[order[: args.top]]))
    if args.out:
        write_csv(args.out, np.asarray(rows))
        print(f"all {len(rows)} rows written to {args.out}")
    if args.report or args.plot:
        best = rows[order[0]]
        best_params = {n: best[n].item() for n in names}
        results = _rerun(prices, args.strategy, best_params, config, bars)
        label = ", ".join(f"{n}={v}" for n, v in best_params.items())
        if args.report:
            text = f"statistics of {args.strategy} ({label}):\n{results.stats().to_string()}\n"
            if args.report == "-":
                print(text, end="")
            else:
                _write_text(args.report, text)
                print(f"statistics of the best row written to {args.report}")
        if args.plot:
            try:
                results.plot(args.plot)
            except ImportError as exc:
                raise CliError(str(exc)) from None
            except (OSError, ValueError) as exc:
                raise CliError(f"{args.plot}: {exc}") from None
            print(f"plot of the best row written to {args.plot}")
    return 0


def _has_stops(config: BacktestConfig) -> bool:
    return any(getattr(config, f) is not None for f in ("stop_loss", "take_profit", "trailing_stop"))


def _rerun(prices: PriceFile, strategy: str, params: dict, config: BacktestConfig, bars: dict) -> Any:
    """The best row again, as a full run (its trades and equity curve), on the
    file's dates when it has them."""
    try:
        import pandas as pd
    except ImportError:
        raise CliError("--report and --plot need pandas") from None
    close = pd.Series(prices.close, index=prices.dates if prices.dates is not None else pd.RangeIndex(len(prices.close)))
    sig = strategy_signals(prices.close, strategy, **params)
    return backtest_strategy(close, sig, config, **bars)


def _write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "backtest":
            return run_backtest(args)
    except CliError as exc:
        print(f"pyrt: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BAD_INPUT
