"""Binding benchmark: per-call overhead of the Go, Java and Node bindings.

Each language's program (bench/bindings/<lang>/) times one Run("SMA", 1,000
points), one stream Update and one PopBatch of 4096 ring records, plus its
language's own loop doing the same work; c_bench.c times the same C calls.
Overhead = binding - C call. At 1,000,000 points, each binding against the C
call (ratio). Every program runs TRIALS times, interleaved, and each number
is the best of them: the machine is shared, and the least disturbed run is
the closest to the cost itself.

Needs (make bench-bindings sets them): PKG_CONFIG_PATH with pyrt.pc,
PYRT_LIBRARY, a JDK 22+ (found by bindings/java/find-jdk.sh), the Java jar
and the Node package built (make bindings).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRIALS = 5


def sh(cmd: list[str], cwd: str = ROOT, env: dict | None = None) -> str:
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def parse(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        name, value = line.split()
        out[name] = float(value)
    return out


def main() -> int:
    build = tempfile.mkdtemp(prefix="pyrt-bench-bindings-")
    flags = sh(["pkg-config", "--cflags", "--libs", "pyrt"]).split()
    c_bench = os.path.join(build, "c_bench")
    sh(["cc", "-O2", "-Wall", "-Wextra", "-o", c_bench, "bench/bindings/c_bench.c", *flags, "-lm"])
    go_bench = os.path.join(build, "go_bench")
    sh(["go", "build", "-o", go_bench, "."], cwd=os.path.join(ROOT, "bench/bindings/go"))
    java_home = sh(["bindings/java/find-jdk.sh"]).strip()
    programs = {
        "C": [c_bench],
        "Go": [go_bench],
        "Java": [os.path.join(java_home, "bin/java"), "--enable-native-access=ALL-UNNAMED",
                 "-cp", "bindings/java/target/pyrt-0.1.0.jar", "bench/bindings/java/Bench.java"],
        "Node": ["node", "bench/bindings/node/bench.js"],
    }
    best: dict[str, dict[str, float]] = {lang: {} for lang in programs}
    try:
        for _ in range(TRIALS):
            for lang, cmd in programs.items():
                for name, ns in parse(sh(cmd)).items():
                    best[lang][name] = min(ns, best[lang].get(name, float("inf")))
    finally:
        shutil.rmtree(build)

    c = best["C"]
    print(f"C call: Run SMA 1k {c['c_run_sma_1k']:.0f} ns, Update {c['c_update']:.0f} ns, "
          f"PopBatch 4096 {c['c_pop_4096']:.0f} ns, Run SMA 1M {c['c_run_sma_1m'] / 1e3:.0f} us\n")
    rows = [
        ("Run SMA 1k (allocating outputs)", "run_sma_1k", "loop_sma_1k", "c_run_sma_1k"),
        ("Run SMA 1k (caller's outputs)", "runinto_sma_1k", "loop_sma_1k", "c_run_sma_1k"),
        ("Stream Update", "update", "loop_update", "c_update"),
        ("Stream Update (caller's output)", "updateinto", "loop_update", "c_update"),
        ("PopBatch 4096 (new records)", "pop_4096", "loop_pop_4096", "c_pop_4096"),
        ("PopBatch 4096 (caller's buffer)", "popinto_4096", "loop_pop_4096", "c_pop_4096"),
    ]
    target = {"Go": 1000, "Java": 1000, "Node": 2000}
    print("| language | call | language's own loop (ns) | binding (ns) | C call (ns) | overhead (ns) | target |")
    print("|---|---|---:|---:|---:|---:|---|")
    for lang in ("Go", "Java", "Node"):
        b = best[lang]
        for label, key, loop, ckey in rows:
            if key not in b:
                continue
            overhead = b[key] - c[ckey]
            ok = "yes" if overhead < target[lang] else "NO"
            print(f"| {lang} | {label} | {b[loop]:.0f} | {b[key]:.0f} | {c[ckey]:.0f} | {overhead:.0f} | "
                  f"< {target[lang]} ns: {ok} |")
    print()
    print("| language | Run SMA 1,000,000 points | language's own loop (us) | binding (us) | C call (us) | binding / C | within 10% |")
    print("|---|---|---:|---:|---:|---:|---|")
    for lang in ("Go", "Java", "Node"):
        b = best[lang]
        for label, key in (("allocating outputs", "run_sma_1m"), ("caller's outputs", "runinto_sma_1m")):
            ratio = b[key] / c["c_run_sma_1m"]
            print(f"| {lang} | {label} | {b['loop_sma_1m'] / 1e3:.0f} | {b[key] / 1e3:.0f} | "
                  f"{c['c_run_sma_1m'] / 1e3:.0f} | {ratio:.2f} | {'yes' if ratio <= 1.10 else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
