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
