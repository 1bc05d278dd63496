"""Runs one stress case in a child Python process, so that a crash (SIGSEGV,
SIGBUS, SIGABRT, a hang) fails that case with its output instead of taking
the whole test run down with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

# Every case's source starts with these imports and helpers.
PRELUDE = '''
import copy, os, pickle, sys, threading, time, uuid
import numpy as np
import pyrt
from pyrt._core import ffi, lib, PyrtStateError
from pyrt.ipc import RECORD_DTYPE, SharedRing
from pyrt.messaging import Publisher, Subscriber, CommandSender, CommandReceiver

def ring_name():
    return f"pyrt-stress-{os.getpid()}-{uuid.uuid4().hex[:10]}"

def run_threads(target, count, *args):
    """Runs `target(i, *args)` on `count` threads; re-raises the first error."""
    errors = []
    def wrapped(i):
        try:
            target(i, *args)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]
'''


def run_in_child(source: str, timeout: float = 60.0) -> str:
    """Runs `source` (after the prelude) in a fresh interpreter; fails with
    the child's output unless it exits 0 and prints "CASE OK"."""
    code = PRELUDE + textwrap.dedent(source) + '\nprint("CASE OK")\n'
    try:
        # Run from this folder: `-c` puts the working directory first on
        # sys.path, and the source tree's pyrt (without its compiled parts)
        # must not shadow the installed one.
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              cwd=os.path.dirname(os.path.abspath(__file__)))
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the case hung for {timeout} s\n{exc.stdout or ''}\n{exc.stderr or ''}") from None
    output = f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    if done.returncode < 0:
        raise AssertionError(f"the case was killed by {signal.Signals(-done.returncode).name}\n{output}")
    assert done.returncode == 0, f"the case failed (exit {done.returncode})\n{output}"
    assert "CASE OK" in done.stdout, output
    return done.stdout


def shm_path(name: str) -> str:
    return os.path.join("/dev/shm", name)
