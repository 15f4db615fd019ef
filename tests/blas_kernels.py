"""Run the checks of the stored outputs under every OpenBLAS kernel this CPU can run.

numpy and scipy do their matrix products with OpenBLAS, which picks a kernel
for the CPU it finds: an AVX-512 laptop and an AVX2 one add up the same
products in a different order, so the last bits of a result can differ. The
tutorial's stored outputs must not (see tutorial_kit/exact.py). This script
re-runs what compares with them, once per kernel, forced with
``OPENBLAS_CORETYPE``:

    python tests/blas_kernels.py            # every kernel this CPU supports
    python tests/blas_kernels.py --list     # just name them

Only kernels whose instructions the CPU has are forced (reading the flags of
``/proc/cpuinfo``); on a CPU that is not x86-64 there is nothing to force and
the script says so. ``.ci/run`` runs it after the main test command.

numpy has AVX-512 code of its own too (``np.exp`` among others, which the
gaussian neighbourhood uses). On an AVX-512 CPU one more run stands for an
AVX2 machine as a whole: the Haswell kernel with numpy's AVX-512 paths off
(``NPY_DISABLE_CPU_FEATURES``).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# OpenBLAS's x86-64 kernels named in the issue, oldest first, with the CPU
# flags each needs (Prescott: any x86-64; Haswell: AVX2 and FMA; SkylakeX:
# AVX-512 foundation, byte/word, double/quad word, vector length extensions).
KERNELS = {
    "Prescott": {"pni"},  # SSE3, which Linux calls "pni" (Prescott New Instructions)
    "Haswell": {"avx2", "fma"},
    "SkylakeX": {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"},
}

# What OpenBLAS then reports (threadpoolctl's "architecture"): it names the
# Prescott kernel "Katmai".
REPORTED = {"Prescott": {"prescott", "katmai"}, "Haswell": {"haswell"}, "SkylakeX": {"skylakex"}}

# The tests that compare with the stored outputs or re-measure the prose.
CHECKS = ["tests/test_exact.py", "tests/test_claims.py", "tests/test_tour.py",
          "tests/test_notebooks.py::test_notebook_passes_strict_nbval"]


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags (an empty set where /proc/cpuinfo has none, e.g. not Linux)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def supported_kernels(flags=None):
    """The kernels of ``KERNELS`` this CPU can run, oldest first."""
    flags = cpu_flags() if flags is None else flags
    return [name for name, needs in KERNELS.items() if needs <= flags]


def numpy_avx512_features():
    """numpy's AVX-512 code paths that this CPU would use (names as NPY_DISABLE_CPU_FEATURES takes them)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as umath
    return [name for name in umath.__cpu_dispatch__
            if (name.startswith("AVX512") or name == "X86_V4") and umath.__cpu_features__.get(name)]


def runs():
    """``{label: environment changes}``: one run per kernel, and an AVX2 machine as a whole."""
    planned = {kernel: {"OPENBLAS_CORETYPE": kernel} for kernel in supported_kernels()}
    avx512 = numpy_avx512_features()
    if "Haswell" in planned and avx512:
        planned["Haswell, numpy without AVX-512"] = {"OPENBLAS_CORETYPE": "Haswell",
                                                     "NPY_DISABLE_CPU_FEATURES": " ".join(avx512)}
    return planned


def main(argv):
    planned = runs()
    if "--list" in argv:
        print("\n".join(planned))
        return 0
    if not planned:
        print("blas_kernels: this CPU has no x86-64 flags to choose OpenBLAS kernels by; nothing to force")
        return 0
    failed = []
    for label, changes in planned.items():
        started = time.monotonic()
        env = dict(os.environ, **changes)
        env.pop("OPENBLAS_L2_SIZE", None)  # set with the core type on some machines; belongs to it
        shown = " ".join(f"{name}={value!r}" for name, value in changes.items())
        print(f"+ {shown} python -m pytest {' '.join(CHECKS)}", flush=True)
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS],
                                cwd=REPO, env=env)
        print(f"{label}: {'passed' if result.returncode == 0 else 'FAILED'} "
              f"in {time.monotonic() - started:.0f} s", flush=True)
        if result.returncode:
            failed.append(label)
    if failed:
        print(f"blas_kernels: the stored outputs or the prose do not hold under {'; '.join(failed)}",
              file=sys.stderr)
        return 1
    print(f"blas_kernels: {len(planned)} runs passed ({'; '.join(planned)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
