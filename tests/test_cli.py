"""`python -m pyrt backtest`: a real subprocess on CSV files written here."""

import csv
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import pyrt


def run_cli(*args, cwd=None):
    # Run from a scratch folder: the repository root would shadow the
    # installed package with the source tree.
    cwd = cwd or tempfile.gettempdir()
    return subprocess.run([sys.executable, "-m", "pyrt", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture
def prices_csv(tmp_path):
    rng = np.random.default_rng(42)
    close = 100 + np.cumsum(rng.standard_normal(500))
    path = tmp_path / "prices.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Date", "Open", "High", "Low", "Close"])
        for i, c in enumerate(close):
            w.writerow([(np.datetime64("2022-01-03") + i).item().isoformat(), c, c + 1, c - 1, c])
    return path, close


def test_help_documents_the_command():
    out = run_cli("--help")
    assert out.returncode == 0 and "backtest" in out.stdout
    out = run_cli("backtest", "--help")
    assert out.returncode == 0
    for word in ("--strategy", "--param", "START:STOP:STEP", "--commission", "--slippage-bps", "--out", "sma_cross"):
        assert word in out.stdout


def test_sweep_prints_the_best_rows_and_writes_all(prices_csv, tmp_path):
    path, close = prices_csv
    out_csv = tmp_path / "results.csv"
    out = run_cli("backtest", str(path), "--strategy", "sma_cross", "--param", "fast=5:20:5",
                  "--param", "slow=30,50", "--commission", "1", "--slippage-bps", "5", "--top", "3",
                  "--out", str(out_csv))
    assert out.returncode == 0, out.stderr
    assert "8/8 combinations" in out.stderr
    lines = out.stdout.splitlines()
    assert "500 bars, 8 combinations" in lines[0]
    assert lines[1].split()[:3] == ["series", "fast", "slow"]
    assert len(lines) == 2 + 3 + 1

    with open(out_csv) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8
    config = pyrt.BacktestConfig(commission=1.0, slippage_bps=5.0)
    for row in rows:
        sig = pyrt.sweep.sma_cross(close, int(row["fast"]), int(row["slow"]))
        r = pyrt.backtest_strategy(close, sig, config)
        assert float(row["total_return"]) == r.total_return
        assert int(row["num_trades"]) == r.num_trades
    best = max(rows, key=lambda r: float(r["sharpe_ratio"]))
    assert lines[2].split()[1:3] == [best["fast"], best["slow"]]


@pytest.mark.parametrize(
    "content, args, message",
    [
        ("date,open\n1,2\n", [], "no 'close' column"),
        ("", [], "empty"),
        ("close\n1\nabc\n", [], "not a number"),
        ("close\n", [], "no data rows"),
        (None, [], "No such file"),
        ("close\n1\n2\n3\n", ["--param", "fast=5:1:1"], "stop >= start"),
        ("close\n1\n2\n3\n", ["--param", "fast=a:b:c"], "must be numbers"),
        ("close\n1\n2\n3\n", ["--param", "fast"], "expected NAME="),
        ("close\n1\n2\n3\n", ["--param", "fast=1", "--param", "wrong=2"], "unknown wrong"),
        ("close\n1\n2\n3\n", ["--param", "fast=1", "--param", "slow=50"], "slow"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_code_2(tmp_path, content, args, message):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    if not any(a.startswith("fast") for a in args):
        args = ["--param", "fast=1", "--param", "slow=2", *args]
    out = run_cli("backtest", str(path), "--strategy", "sma_cross", "--quiet", *args)
    assert out.returncode == 2
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pyrt: error:"), out.stderr
    assert message in err[0]


def test_unknown_strategy_is_exit_code_2(prices_csv):
    path, _ = prices_csv
    out = run_cli("backtest", str(path), "--strategy", "nope")
    assert out.returncode == 2 and "invalid choice" in out.stderr


@pytest.fixture
def yahoo_csv(tmp_path):
    """A file as Yahoo Finance writes one: Date, OHLC, Adj Close, Volume."""
    rng = np.random.default_rng(7)
    n = 400
    close = 100 * np.cumprod(1 + rng.normal(0, 0.015, n))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.004, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    dates = np.busday_offset("2021-01-04", np.arange(n), roll="forward")
    path = tmp_path / "yahoo.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"])
        for i in range(n):
            w.writerow([str(dates[i]), open_[i], high[i], low[i], close[i], close[i] * 0.98, 1000])
    return path, dict(open=open_, high=high, low=low, close=close, dates=dates)


def test_dates_adj_close_stops_report_and_plot(yahoo_csv, tmp_path):
    import pandas as pd

    path, cols = yahoo_csv
    png = tmp_path / "best.png"
    out = run_cli("backtest", str(path), "--strategy", "sma_cross", "--param", "fast=5,10", "--param", "slow=30",
                  "--fill-at", "next_open", "--stop-loss", "0.03", "--take-profit", "0.08", "--trailing-stop", "0.05",
                  "--commission-rate", "0.001", "--allow-short", "--report", "--plot", str(png), "--quiet")
    assert out.returncode == 0, out.stderr
    assert "2021-01-04" in out.stdout and "Sharpe Ratio" in out.stdout and "Kelly Criterion" in out.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    # The printed statistics are those of the best row, run on the file's dates.
    config = pyrt.BacktestConfig(fill_at="next_open", stop_loss=0.03, take_profit=0.08, trailing_stop=0.05,
                                 commission_rate=0.001, allow_short=True)
    rows = pyrt.sweep.grid(cols["close"], "sma_cross", {"fast": [5, 10], "slow": [30]}, config,
                           open=cols["open"], high=cols["high"], low=cols["low"])
    best = rows[np.argmax(rows["sharpe_ratio"])]
    close = pd.Series(cols["close"], index=pd.DatetimeIndex(cols["dates"]))
    sig = pyrt.sweep.sma_cross(cols["close"], int(best["fast"]), int(best["slow"]))
    want = pyrt.backtest_strategy(close, sig, config, open=cols["open"], high=cols["high"], low=cols["low"])
    assert want.total_return == best["total_return"]
    line = next(l for l in out.stdout.splitlines() if l.startswith("# Trades"))
    assert int(line.split()[-1]) == want.num_trades
    line = next(l for l in out.stdout.splitlines() if l.startswith("End"))
    assert str(close.index[-1].date()) in line


def test_adj_close_is_the_fallback_and_column_picks_any(tmp_path):
    rng = np.random.default_rng(3)
    adj = 50 + np.cumsum(rng.standard_normal(300))
    path = tmp_path / "adj.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Date", "Adj Close", "Other"])
        for i, c in enumerate(adj):
            w.writerow([f"2020-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}", c, c * 2])
    args = ["backtest", str(path), "--strategy", "sma_cross", "--param", "fast=5", "--param", "slow=20", "--quiet",
            "--out", str(tmp_path / "rows.csv")]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    want = pyrt.backtest_strategy(adj, pyrt.sweep.sma_cross(adj, 5, 20))
    with open(tmp_path / "rows.csv") as f:
        assert float(next(csv.DictReader(f))["total_return"]) == want.total_return
    out = run_cli(*args, "--column", "OTHER")
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "rows.csv") as f:
        other = pyrt.backtest_strategy(adj * 2, pyrt.sweep.sma_cross(adj * 2, 5, 20))
        assert float(next(csv.DictReader(f))["total_return"]) == other.total_return


@pytest.mark.parametrize(
    "content, args, message",
    [
        ("date,close\n2020-01-01,1\n2020-01-02,2\n", ["--fill-at", "next_open"], "--open:"),
        ("date,close\n2020-01-01,1\n2020-01-02,2\n", ["--stop-loss", "0.1"], "--high:"),
        ("date,close\n2020-01-01,1\n2020-01-02,2\n", ["--column", "price"], "--column 'price': no such column"),
        ("date,close\nnot a date,1\n2020-01-02,2\n", [], "does not hold dates"),
        ("close\n1\n2\n", ["--stop-loss", "-1"], "stop_loss"),
    ],
)
def test_bad_new_options_are_one_error_line(tmp_path, content, args, message):
    path = tmp_path / "in.csv"
    path.write_text(content)
    out = run_cli("backtest", str(path), "--strategy", "sma_cross", "--param", "fast=1", "--param", "slow=2",
                  "--quiet", *args)
    assert out.returncode == 2, out.stdout
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and message in err[0], out.stderr
