"""Features: the exact PCA speed-up must keep the 2019 post's distances."""
import numpy as np
import pytest
from scipy.spatial.distance import pdist
from sklearn.preprocessing import StandardScaler

import helpers
from conftest import random_covers, structured_covers


def standardised(images):
    """The 2019 post's features: StandardScaler on the flattened pixels."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    return StandardScaler().fit_transform(flat)


@pytest.mark.parametrize("make, n, height, width, seed", [
    (random_covers, 12, 20, 15, 0),
    (random_covers, 12, 20, 15, 1),
    (random_covers, 2, 3, 4, 2),
    (random_covers, 6, 80, 80, 3),       # 19,200 numbers: more than one chunk
    (structured_covers, 12, 20, 15, 4),
    (structured_covers, 9, 70, 90, 5),   # several chunks, low rank
])
def test_distances_equal_standardised_pixel_distances(make, n, height, width, seed):
    images = make(n, height, width, seed)
    features = helpers.make_features(images)
    reference = pdist(standardised(images))
    ours = pdist(features.values)
    scale = reference.max()
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("make, n, seed", [
    (random_covers, 2, 0), (random_covers, 3, 1), (random_covers, 12, 2),
    (random_covers, 12, 3), (random_covers, 30, 4), (structured_covers, 12, 5),
])
def test_at_most_n_minus_one_columns(make, n, seed):
    images = make(n, 20, 15, seed)
    features = helpers.make_features(images)
    assert features.values.ndim == 2
    assert features.values.shape[0] == n
    assert 1 <= features.values.shape[1] <= n - 1
    assert len(features) == n


def test_duplicate_covers_get_the_same_features():
    images = structured_covers(8, 20, 15, seed=6)
    features = helpers.make_features(images)
    # 8 covers with one duplicate span at most 6 directions once centred
    assert features.values.shape[1] <= 6
    spread = np.abs(features.values).max()
    np.testing.assert_allclose(features.values[-1], features.values[0], atol=1e-6 * spread)


def test_identical_covers_are_a_clear_error():
    images = np.repeat(random_covers(1, 6, 5, seed=13), 4, axis=0)
    with pytest.raises(ValueError, match="identical"):
        helpers.make_features(images)


def test_two_different_covers_give_one_column():
    images = random_covers(2, 6, 5, seed=14)
    features = helpers.make_features(images)
    assert features.values.shape == (2, 1)
    assert abs(features.values[0, 0] - features.values[1, 0]) == pytest.approx(
        pdist(standardised(images))[0])


def test_image_shape_and_scaler_are_those_of_the_covers():
    images = random_covers(5, 7, 9, seed=7)
    images[:, 0, 0, 0] = 17  # a column that never varies: StandardScaler's scale is 1 there
    images[:, 0, 1, 0] = [0, 2, 0, 2, 1]  # ... and one whose standard deviation is not 1
    features = helpers.make_features(images)
    assert tuple(features.image_shape) == (7, 9, 3)
    reference = StandardScaler().fit(images.reshape(5, -1).astype(np.float64))
    np.testing.assert_allclose(features.mean, reference.mean_, rtol=1e-15)
    np.testing.assert_allclose(features.scale, reference.scale_, rtol=1e-15)
    assert features.scale[0] == 1.0 and features.scale[3] != 1.0


def test_pixel_statistics_equal_standardscaler_on_the_bundled_covers():
    # tutorial_kit.fast.column_stats replaces the 2019 post's StandardScaler
    # (it sums whole numbers exactly and keeps scikit-learn out of the command line)
    covers = helpers.load_covers(helpers.BUNDLED_COVERS)
    pixels = covers.images.reshape(len(covers.images), -1)
    reference = StandardScaler().fit(pixels.astype(np.float32))  # as in notebook 02
    features = helpers.make_features(covers.images)
    np.testing.assert_allclose(features.mean, reference.mean_, rtol=1e-15, atol=0)
    np.testing.assert_allclose(features.scale, reference.scale_, rtol=1e-15, atol=0)


@pytest.mark.parametrize("make", [random_covers, structured_covers])
def test_inverse_transform_gives_back_each_cover(make):
    images = make(12, 20, 15, seed=8)
    features = helpers.make_features(images)
    for i in range(len(images)):
        back = features.inverse_transform(features.values[i])
        assert back.shape == (1, 20, 15, 3)
        assert back.dtype == np.uint8
        difference = np.abs(back[0].astype(int) - images[i].astype(int))
        assert difference.max() <= 1, f"cover {i} is off by {difference.max()} grey levels"


def test_inverse_transform_of_many_vectors_at_once():
    images = random_covers(6, 80, 80, seed=9)  # more than one chunk of pixels
    features = helpers.make_features(images)
    back = features.inverse_transform(features.values)
    assert back.shape == images.shape
    assert np.abs(back.astype(int) - images.astype(int)).max() <= 1


def test_inverse_transform_of_the_mean_vector_is_the_mean_image():
    images = random_covers(12, 20, 15, seed=10)
    features = helpers.make_features(images)
    zeros = np.zeros(features.values.shape[1])
    # the features are centred: their mean is the zero vector
    np.testing.assert_allclose(features.values.mean(axis=0), zeros, atol=1e-6 * np.abs(features.values).max())
    mean_image = features.inverse_transform(zeros)[0]
    assert np.abs(mean_image - images.mean(axis=0)).max() <= 1


def test_inverse_transform_is_linear_in_pixels():
    # halfway between two covers' features is halfway between their pixels
    images = random_covers(10, 12, 10, seed=11)
    features = helpers.make_features(images)
    middle = features.inverse_transform((features.values[2] + features.values[7]) / 2)[0]
    expected = (images[2].astype(float) + images[7].astype(float)) / 2
    assert np.abs(middle - expected).max() <= 1


def test_inverse_transform_rejects_vectors_of_the_wrong_length():
    features = helpers.make_features(random_covers(5, 6, 6, seed=12))
    with pytest.raises(ValueError, match="features"):
        features.inverse_transform(np.zeros(features.values.shape[1] + 1))


@pytest.mark.parametrize("images, match", [
    (random_covers(4, 6, 5).astype(np.float64), "uint8"),
    (random_covers(4, 6, 5).astype(np.int64), "uint8"),
    (random_covers(4, 6, 5)[..., 0], "shape"),                 # greyscale (N, H, W)
    (np.zeros((4, 6, 5, 4), dtype=np.uint8), "shape"),         # RGBA
    (random_covers(4, 6, 5).reshape(4, -1), "shape"),          # already flattened
    (random_covers(1, 6, 5), "at least 2 covers"),
    (np.zeros((0, 6, 5, 3), dtype=np.uint8), "at least 2 covers"),
])
def test_bad_images_raise_value_error(images, match):
    with pytest.raises(ValueError, match=match):
        helpers.make_features(images)
