"""cffi builder for `pyrt._native` (API mode: a compiled extension module).

API mode, not ABI (dlopen) mode, chosen by measurement: a compiled call
skips libffi's argument marshalling. On the reference machine a streaming
`pyrt_sma_update` call from Python costs about 160 ns in API mode and 270 ns
in ABI mode, and a 1,000-point `pyrt_sma` call with its two buffer
conversions 1.4 us against 1.85 us; the per-tick cost is what decides, since
it has to stay level with TA-Lib's own streaming objects.

The declarations are the committed header with its preprocessor lines removed
(integer #defines kept), so nothing here is written by hand.
"""

import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, os.pardir, "include", "pyrt.h")

_INT_DEFINE = re.compile(r"^#define\s+[A-Z_][A-Z0-9_]*\s+-?(0x[0-9A-Fa-f]+|\d+)[uUlL]*\s*$")


def cdef_from_header(text: str) -> str:
    """Header text -> declarations cffi can parse: drop preprocessor lines and
    the C++ `extern "C"` guards, keep integer #defines."""
    lines = []
    skipping_cplusplus = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#ifdef __cplusplus"):
            skipping_cplusplus = True
            continue
        if skipping_cplusplus:
            if stripped.startswith("#endif"):
                skipping_cplusplus = False
            continue
        if stripped.startswith("#"):
            if _INT_DEFINE.match(stripped):
                lines.append(stripped)
            continue
        lines.append(line)
    return "\n".join(lines)


with open(HEADER, encoding="utf-8") as f:
    _header = f.read()

ffibuilder = FFI()
ffibuilder.cdef(cdef_from_header(_header))
ffibuilder.set_source(
    "pyrt._native",
    '#include "pyrt.h"',
    include_dirs=[os.path.normpath(os.path.join(HERE, os.pardir, "include"))],
    # setup.py links the freshly built libpyrt (by path); it sits beside the
    # extension inside the installed package.
    extra_link_args=["-Wl,-rpath,$ORIGIN"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
