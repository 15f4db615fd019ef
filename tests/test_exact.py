"""The measures that make every CPU compute the same features and the same starting map.

tutorial_kit/exact.py explains why they exist: a chaotic map (the 2019 post's
triangle) turns a difference in the last bit of a feature into another map.
Each measure has a test here that fails without it:

- the Gram matrix is exact: it does not change, to the last bit, when the
  pixel columns are added up in another order (a plain float matrix product does);
- the eigenvectors' signs follow one rule (largest entry positive);
- the eigen-decomposition and the PCA start use no BLAS: run under every
  OpenBLAS kernel this CPU supports, they give the same bytes (np.linalg.eigh
  and MiniSom's pca_weights_init do not);
- and, when ``OPENBLAS_CORETYPE`` forces a kernel (tests/blas_kernels.py),
  OpenBLAS really runs that kernel, so those runs test what they claim to.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from blas_kernels import REPORTED, numpy_avx512_features, supported_kernels
from conftest import structured_covers
from minisom import MiniSom

import helpers
from tutorial_kit import exact, fast

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pixels():
    return structured_covers(24, 30, 20).reshape(24, -1)


def test_the_gram_matrix_does_not_depend_on_the_order_of_the_sums(pixels):
    mean, scale, _ = fast.column_stats(pixels)
    order = np.random.default_rng(0).permutation(pixels.shape[1])
    gram = exact.exact_gram(pixels, mean, scale)
    shuffled = exact.exact_gram(pixels[:, order], mean[order], scale[order], block_columns=97)
    np.testing.assert_array_equal(gram, shuffled)
    # the same sums in float64 without the rounding to a grid do depend on the order
    x = (pixels - mean) / scale
    assert not np.array_equal(x @ x.T, x[:, order] @ x[:, order].T)
    # and the rounding changes the matrix by far less than the covers differ
    assert np.abs(gram - x @ x.T).max() < 1e-6 * np.abs(x @ x.T).max()


def test_gram_bits_keep_every_partial_sum_below_2_to_the_53():
    for n, width in [(2, 1), (100, 154_290), (200, 300 * 200 * 3), (37, 12)]:
        bits = exact.gram_bits(n, width)
        largest = np.sqrt(n - 1) * 2.0 ** bits + 1
        assert width * largest ** 2 < 2.0 ** 53
        assert width * (np.sqrt(n - 1) * 2.0 ** (bits + 1)) ** 2 >= 2.0 ** 53 / 4  # no finer grid wasted


@pytest.mark.parametrize("n", [1, 2, 3, 8, 31])
def test_jacobi_agrees_with_eigh(n):
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n, n + 2))
    a = a @ a.T
    values, vectors = exact.symmetric_eigen(a)
    expected = np.linalg.eigh(a)[0][::-1]
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12 * expected.max())
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(n), atol=1e-13)
    np.testing.assert_allclose((vectors * values) @ vectors.T, a, atol=1e-12 * np.abs(a).max())


def test_every_feature_axis_has_its_largest_entry_positive():
    features = helpers.make_features(structured_covers(12, 16, 12)).values
    largest = features[np.abs(features).argmax(axis=0), np.arange(features.shape[1])]
    assert (largest > 0).all()


def test_the_pca_start_is_minisoms_up_to_the_sign_of_each_axis():
    rng = np.random.default_rng(3)
    data = rng.normal(size=(40, 6)) * [5, 3, 1, 1, 0.5, 0.2]
    ours = exact.pca_start(data, 5, 4)
    som = MiniSom(5, 4, 6)
    som.pca_weights_init(data)
    theirs = som.get_weights()
    flips = [theirs, theirs[::-1], theirs[:, ::-1], theirs[::-1, ::-1]]  # pc1 -> -pc1 reverses the rows
    assert any(np.allclose(ours, flipped, atol=1e-12) for flipped in flips)


def test_train_som_starts_from_the_exact_pca_start(monkeypatch):
    monkeypatch.setattr(fast, "train_steps", lambda *args: None)  # keep the start as it is
    data = np.random.default_rng(5).normal(size=(30, 4)) * [4, 2, 1, 1]
    trained = helpers.train_som(data, 4, 3, **helpers.som_settings("default", iterations=10))
    np.testing.assert_array_equal(trained.som.get_weights(), exact.pca_start(data, 4, 3))


# What a subprocess computes under a forced kernel: a digest of each result.
_PROBE = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
from conftest import structured_covers
from minisom import MiniSom
import helpers
from tutorial_kit import exact
images = structured_covers(40, 30, 20)
values = helpers.make_features(images).values
pixels = images.reshape(40, -1).astype(float)
gram = pixels @ pixels.T
som = MiniSom(6, 7, values.shape[1])
som.pca_weights_init(values)
results = dict(features=values, start=exact.pca_start(values, 6, 7), eigh=np.linalg.eigh(gram)[1],
               minisom_start=som.get_weights())
for name, array in results.items():
    print(name, hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest())
"""


@pytest.fixture(scope="module")
def digests_per_kernel():
    kernels = supported_kernels()
    if len(kernels) < 2:
        pytest.skip(f"this CPU runs {len(kernels)} of OpenBLAS's x86-64 kernels: nothing to compare")
    digests = {}
    for kernel in kernels:
        env = dict(os.environ, OPENBLAS_CORETYPE=kernel)
        env.pop("OPENBLAS_L2_SIZE", None)
        out = subprocess.run([sys.executable, "-c", _PROBE.format(repo=str(REPO), tests=str(REPO / "tests"))],
                             env=env, capture_output=True, text=True, check=True, timeout=120).stdout
        digests[kernel] = dict(line.split() for line in out.splitlines())
    return digests


def test_features_and_start_are_the_same_under_every_openblas_kernel(digests_per_kernel):
    first = next(iter(digests_per_kernel.values()))
    for kernel, digest in digests_per_kernel.items():
        assert digest["features"] == first["features"], kernel
        assert digest["start"] == first["start"], kernel


def test_the_library_routines_they_replace_do_depend_on_the_kernel(digests_per_kernel):
    """The control: without the measures (eigh, MiniSom's own PCA start) the bytes differ."""
    for name in ("eigh", "minisom_start"):
        assert len({digest[name] for digest in digests_per_kernel.values()}) > 1, name


def test_the_forced_openblas_kernel_is_the_one_running():
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if not forced or forced not in REPORTED:
        pytest.skip("no OPENBLAS_CORETYPE from tests/blas_kernels.py to check")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS too)
    running = {info.get("architecture", "").lower() for info in threadpoolctl.threadpool_info()
               if info["internal_api"] == "openblas"}
    assert running and running <= REPORTED[forced], (forced, running)


def test_numpys_disabled_avx512_paths_are_off():
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split()
    if not disabled:
        pytest.skip("no NPY_DISABLE_CPU_FEATURES from tests/blas_kernels.py to check")
    assert numpy_avx512_features() == []  # what this run claims to stand for: numpy on an AVX2 CPU


def test_the_script_forces_only_kernels_the_cpu_has():
    from blas_kernels import KERNELS
    assert supported_kernels(set()) == []
    assert supported_kernels({"pni", "avx2", "fma"}) == ["Prescott", "Haswell"]
    assert supported_kernels(set().union(*KERNELS.values())) == list(KERNELS)
