"""Builds pyrt: the Rust core as one shared library inside the package
(setuptools-rust), then the cffi extension `pyrt._native` linked against it.

The cffi declarations are generated from include/pyrt.h at build time (see
pyrt/_build_ffi.py), so the Python side can never disagree with the header.
"""

import os
import re
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools_rust import Binding, RustExtension
from setuptools_rust.build import build_rust

HERE = os.path.dirname(os.path.abspath(__file__))

# The compiled extensions use the limited C API of Python 3.11 (one abi3
# wheel for 3.11 and later): 3.11 is the first whose limited API has the
# buffer protocol (PyObject_GetBuffer), which pyrt._batch needs to read NumPy
# arrays in place. Python 3.10 is past its end of life; pyproject.toml's
# `requires-python` says the same.
LIMITED_API = ("Py_LIMITED_API", "0x030B0000")
WHEEL_TAG = "cp311"
sys.path.insert(0, os.path.join(HERE, "pyrt"))


# Linux: the file is named after its soname (set by build.rs), so programs
# linked against it, the cffi extension among them, find it beside themselves.
LIBRARY_FILE = {"darwin": "libpyrt.dylib", "win32": "pyrt.dll"}.get(sys.platform, "libpyrt.so.0")


def cargo_version() -> str:
    with open(os.path.join(HERE, "Cargo.toml"), encoding="utf-8") as f:
        return re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M).group(1)


# What `-lpyrt` opens: a one-line GNU ld script naming the real file, since a
# wheel cannot hold a symlink and a second copy of the library would double
# its size. `cc ... -L$(python -c "import pyrt; print(pyrt.get_library_dir())") -lpyrt`
# then links against libpyrt.so.0, as libc.so does with libc.so.6.
LINKER_NAME = "libpyrt.so"
LINKER_SCRIPT = f"/* GNU ld script: -lpyrt links {LIBRARY_FILE}, found beside this file */\nINPUT({LIBRARY_FILE})\n"


class BuildPyWithHeader(build_py):
    """Ships the headers of include/ (pyrt.h, pyrt.hpp, ...) inside the package, for `pyrt.get_include()`,
    and the linker name `libpyrt.so` beside the library, for `-lpyrt`."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "pyrt", "include")
        os.makedirs(target, exist_ok=True)
        include = os.path.join(HERE, "include")
        for header in sorted(os.listdir(include)):  # pyrt.h, pyrt.hpp and what pyrt.hpp includes
            if header.endswith((".h", ".hpp")):
                shutil.copy2(os.path.join(include, header), target)
        if LIBRARY_FILE != LINKER_NAME and sys.platform.startswith("linux"):
            with open(os.path.join(self.build_lib, "pyrt", LINKER_NAME), "w", encoding="ascii") as f:
                f.write(LINKER_SCRIPT)


class BuildRustPlainName(build_rust):
    """Installs the cdylib under its plain platform name (libpyrt.so), not a
    Python-extension name: it is a C library that C and C++ programs link too."""

    def get_dylib_ext_path(self, ext, target_fname):
        python_style = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(python_style), LIBRARY_FILE)


class BuildRustThenCffi(build_ext):
    """Runs cargo first: the cffi extension links against libpyrt."""

    def run(self):
        build_rust = self.get_finalized_command("build_rust")
        build_rust.inplace = self.inplace
        build_rust.run()
        package_dir = HERE if self.inplace else self.build_lib
        library = os.path.join(package_dir, "pyrt", LIBRARY_FILE)
        for ext in self.extensions:
            ext.extra_objects.append(library)
        super().run()


def cffi_extension():
    import _build_ffi

    extension = _build_ffi.ffibuilder.distutils_extension(os.path.join("build", "cffi"))
    # cffi's generated C sticks to the limited C API, so it joins the abi3 wheel.
    extension.py_limited_api = True
    return extension


def compiled_extension(name: str, source: str) -> Extension:
    """A small limited-API extension linked against libpyrt beside it."""
    return Extension(
        name,
        sources=[source],
        include_dirs=["include"],
        extra_link_args=["-Wl,-rpath,$ORIGIN"],
        define_macros=[LIMITED_API],
        py_limited_api=True,
    )


setup(
    version=cargo_version(),
    rust_extensions=[
        RustExtension(
            "pyrt.libpyrt",
            path="Cargo.toml",
            binding=Binding.NoBinding,
            py_limited_api=False,
        )
    ],
    ext_modules=[
        cffi_extension(),
        # The per-tick `update` of streams (see pyrt/_tick.c).
        compiled_extension("pyrt._tick", "pyrt/_tick.c"),
        # The common case of a pyrt.talib function call (see pyrt/_batch.c).
        compiled_extension("pyrt._batch", "pyrt/_batch.c"),
    ],
    cmdclass={
        "build_py": BuildPyWithHeader,
        "build_rust": BuildRustPlainName,
        "build_ext": BuildRustThenCffi,
    },
    options={"bdist_wheel": {"py_limited_api": WHEEL_TAG}},
    zip_safe=False,
)
