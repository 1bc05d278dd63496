"""The package's load-time contract: version, include and library paths, ABI."""

import os
import subprocess
import sys

import pytest

import pyrt
from pyrt._core import ffi, lib


def test_version_matches_the_library():
    assert pyrt.__version__ == ffi.string(lib.pyrt_version()).decode()
    assert pyrt.__version__.count(".") == 2


def test_include_and_library_paths_exist():
    assert os.path.isfile(os.path.join(pyrt.get_include(), "pyrt.h"))
    assert os.path.isfile(pyrt.get_library_path())


def test_abi_versions_agree():
    assert lib.pyrt_abi_version() == lib.PYRT_ABI_VERSION


def test_a_library_of_another_abi_is_refused_with_a_clear_error():
    from pyrt._core import check_abi

    check_abi(3, 3)
    with pytest.raises(ImportError, match="ABI version 4, but this package was built for ABI version 3"):
        check_abi(4, 3)


def test_installed_header_is_the_committed_one():
    repo_header = os.path.join(os.path.dirname(__file__), os.pardir, "include", "pyrt.h")
    with open(repo_header, "rb") as a, open(os.path.join(pyrt.get_include(), "pyrt.h"), "rb") as b:
        assert a.read() == b.read(), "installed pyrt.h differs: rebuild the package"


def test_a_c_program_builds_against_the_installed_package(tmp_path):
    source = tmp_path / "probe.c"
    source.write_text(
        '#include <stdio.h>\n#include <pyrt.h>\n'
        'int main(void) { printf("%s %u", pyrt_version(), pyrt_abi_version()); return 0; }\n'
    )
    exe = tmp_path / "probe"
    lib_dir = os.path.dirname(pyrt.get_library_path())
    subprocess.run(
        ["cc", "-Wall", "-Werror", str(source), "-I", pyrt.get_include(), pyrt.get_library_path(),
         f"-Wl,-rpath,{lib_dir}", "-o", str(exe)],
        check=True,
    )
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    assert out == f"{pyrt.__version__} {lib.PYRT_ABI_VERSION}"


def test_misaligned_inputs_are_accepted_and_give_the_same_results():
    """A float64 view at an odd byte offset (frombuffer, packed records,
    unpickled buffers) is contiguous but misaligned: pyrt copies it once."""
    import numpy as np

    values = 100 + np.cumsum(np.random.default_rng(5).standard_normal(300))
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    raw[1:] = values.view(np.uint8)
    shifted = np.frombuffer(raw.data, dtype=np.float64, count=len(values), offset=1)
    assert not shifted.flags.aligned
    np.testing.assert_array_equal(pyrt.sma(shifted, 20), pyrt.sma(values, 20))
    signals = np.zeros(len(values), dtype=np.int32)
    signals[10], signals[200] = 1, -1
    a = pyrt.backtest_strategy(shifted, signals, pyrt.BacktestConfig())
    b = pyrt.backtest_strategy(values, signals, pyrt.BacktestConfig())
    assert a.final_equity == b.final_equity and a.num_trades == b.num_trades == 1
    assert pyrt.calculate_var(np.diff(shifted) / shifted[:-1]) == pyrt.calculate_var(np.diff(values) / values[:-1])
