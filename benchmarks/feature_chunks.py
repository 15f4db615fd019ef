"""Does make_features need to standardise the pixels a block of columns at a time?

Compares, each in a fresh process, the peak memory and time of
``helpers.make_features`` (16,384 pixel columns at a time) with the same Gram
matrix built from the whole standardised pixel matrix at once.

    python benchmarks/feature_chunks.py [N ...]      # default: 300 1000

The covers are random 185x278 images (seed 0): memory depends only on their number.
"""
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def covers(n):
    return np.random.default_rng(0).integers(0, 256, size=(n, 278, 185, 3), dtype=np.uint8)


def whole_matrix_gram(images):
    """The Gram matrix of the standardised pixels, without chunks (the simple way)."""
    from sklearn.preprocessing import StandardScaler
    pixels = images.reshape(len(images), -1)
    standardised = StandardScaler().fit_transform(pixels.astype(np.float32))
    return standardised @ standardised.T


def measure(way, n):
    """Run one way in this process; print seconds and peak resident memory in MB."""
    import helpers
    images = covers(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    helpers.make_features(images) if way == "chunked" else whole_matrix_gram(images)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{seconds:.2f} {peak:.0f} {peak - before:.0f}")


def main(sizes):
    print(f"| covers | way | seconds | peak RSS (MB) | added by the step (MB) |\n|---:|---|---:|---:|---:|")
    for n in sizes:
        for way in ("chunked", "whole"):
            out = subprocess.run([sys.executable, __file__, "--one", way, str(n)],
                                 capture_output=True, text=True, check=True).stdout.split()
            print(f"| {n} | {way} | {out[0]} | {out[1]} | {out[2]} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        measure(sys.argv[2], int(sys.argv[3]))
    else:
        main([int(n) for n in sys.argv[1:]] or [300, 1000])
