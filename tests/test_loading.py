"""Tests of section 1 of helpers.py: load_covers.

Every test builds its own small cover folder with Pillow in tmp_path. Covers
are 40x60 (width x height), like a tiny movie poster.
"""
import io
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile, features

import helpers
from helpers import CoverSet, load_covers
from tutorial_kit import images as images_module

# Any warning (DecompressionBombWarning, a Pillow palette warning, ...) fails a test.
pytestmark = pytest.mark.filterwarnings("error")

W, H = 40, 60
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
HAS_WEBP = features.check("webp")


def noise(size=(W, H), seed=0):
    """A deterministic RGB image of random pixels (compresses badly: good for cutting)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def solid(colour, size=(W, H), mode="RGB"):
    return Image.new(mode, size, colour)


def jpeg_bytes(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


def with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation  # ExifTags.Base.Orientation
    return exif


def close(actual, expected, tolerance=12):
    """Colours equal up to JPEG noise."""
    return np.all(np.abs(np.asarray(actual, int) - np.asarray(expected, int)) <= tolerance)


def rotated_source():
    """A 60x40 (landscape) image stored sideways: red top-left, blue elsewhere."""
    image = solid(BLUE, (H, W))
    image.paste(RED, (0, 0, 12, 12))
    return image


# --- the mixed folder: every kind of valid cover, plus things to skip -----------------


VALID = {
    "B.JPG": "upper-case extension",
    "a.jpg": "plain RGB JPEG",
    "c.jpeg": ".jpeg extension",
    "d_rgba.png": "RGBA, left half fully transparent",
    "e_grey.png": "L greyscale",
    "f_palette.png": "P with a transparent palette entry",
    "g_cmyk.jpg": "CMYK JPEG",
    "h_16bit.png": "16-bit greyscale (I;16)",
    "i_la.png": "LA, greyscale with alpha",
    "j_rotated.jpg": "stored 60x40, EXIF orientation 6",
    "k_wide.png": "120x60, wider than the others",
    "l_big.Png": "80x120, twice the common size, mixed-case extension",
}
if HAS_WEBP:
    VALID["m.webp"] = "lossless WebP"

BROKEN = {
    "empty.jpg": "empty file (0 bytes)",
    "half.jpg": "truncated image",
    "noise.jpg": "not a readable image",
    "text.png": "not a readable image",
    "notes.txt": "not a JPEG, PNG or WebP file (extension .txt)",
    "README": "not a JPEG, PNG or WebP file (no extension)",
}


def write_valid_covers(folder):
    solid(RED).save(folder / "a.jpg", quality=95)
    solid(GREEN).save(folder / "B.JPG", format="JPEG", quality=95)
    solid(BLUE).save(folder / "c.jpeg", quality=95)

    rgba = solid((0, 0, 0, 255), mode="RGBA")
    rgba.paste((0, 0, 0, 0), (0, 0, W // 2, H))  # transparent black on the left
    rgba.save(folder / "d_rgba.png")

    solid(100, mode="L").save(folder / "e_grey.png")

    palette = Image.new("P", (W, H), 0)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # 0: black, 1: blue
    palette.paste(1, (0, H // 2, W, H))  # bottom half blue, top half index 0
    palette.save(folder / "f_palette.png", transparency=0)  # index 0 is transparent

    sixteen = np.full((H, W), 65535, dtype=np.uint16)
    sixteen[H // 2 :] = 32896  # 128 * 257
    Image.fromarray(sixteen).save(folder / "h_16bit.png")

    solid((0, 0), mode="LA").save(folder / "i_la.png")  # transparent black

    solid((0, 255, 255, 0), mode="CMYK").save(folder / "g_cmyk.jpg", quality=95)  # red

    rotated_source().save(folder / "j_rotated.jpg", quality=95, exif=with_orientation(6))

    wide = solid(GREEN, (3 * W, H))  # blue | green | red, one third each
    wide.paste(BLUE, (0, 0, W, H))
    wide.paste(RED, (2 * W, 0, 3 * W, H))
    wide.save(folder / "k_wide.png")

    solid(RED, (2 * W, 2 * H)).save(folder / "l_big.Png", format="PNG")
    if HAS_WEBP:
        solid(BLUE).save(folder / "m.webp", lossless=True)


def write_broken_files(folder):
    (folder / "empty.jpg").write_bytes(b"")
    whole = jpeg_bytes(noise())
    (folder / "half.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "noise.jpg").write_bytes(np.random.default_rng(1).bytes(3000))
    (folder / "text.png").write_text("this is not a picture\n")
    (folder / "notes.txt").write_text("covers downloaded in 2019\n")
    (folder / "README").write_text("cover folder\n")


@pytest.fixture
def mixed(tmp_path):
    """A folder with every kind of valid cover, broken files, a hidden file and a subfolder."""
    write_valid_covers(tmp_path)
    write_broken_files(tmp_path)
    solid(RED).save(tmp_path / ".hidden.jpg")
    (tmp_path / "sub").mkdir()
    solid(RED).save(tmp_path / "sub" / "inside.jpg")
    (tmp_path / ".part").write_bytes(b"")  # hidden and empty: still ignored
    return tmp_path


@pytest.fixture
def loaded(mixed):
    covers = load_covers(mixed)
    return covers, dict(zip(covers.names, covers.images))


# --- what comes back ------------------------------------------------------------------


def test_every_valid_cover_is_loaded_in_sorted_order(loaded):
    covers, _ = loaded
    assert isinstance(covers, CoverSet)
    assert covers.names == sorted(VALID)  # plain sorted: "B.JPG" before "a.jpg"


def test_images_are_one_uint8_array_of_the_most_common_size(loaded):
    covers, _ = loaded
    assert covers.images.dtype == np.uint8
    assert covers.images.shape == (len(VALID), H, W, 3)
    assert covers.images.flags.c_contiguous


def test_every_broken_file_is_skipped_by_name_with_its_reason(loaded):
    covers, _ = loaded
    reasons = dict(covers.skipped)
    assert sorted(reasons) == sorted(BROKEN)
    for name, expected in BROKEN.items():
        assert reasons[name].startswith(expected), (name, reasons[name])


def test_skipped_reasons_are_single_short_lines(loaded):
    covers, _ = loaded
    assert [name for name, _ in covers.skipped] == sorted(BROKEN)
    for _, reason in covers.skipped:
        assert "\n" not in reason and 0 < len(reason) <= 120
        assert "Traceback" not in reason


def test_hidden_files_and_subfolders_are_ignored_not_reported(loaded):
    covers, _ = loaded
    everything = covers.names + [name for name, _ in covers.skipped]
    assert not any(name.startswith(".") for name in everything)
    assert "sub" not in everything and "inside.jpg" not in everything


def test_loading_twice_gives_the_same_result(mixed):
    first, second = load_covers(mixed), load_covers(mixed)
    assert first.names == second.names and first.skipped == second.skipped
    assert np.array_equal(first.images, second.images)


# --- colour modes ---------------------------------------------------------------------


def test_plain_jpegs_keep_their_colour(loaded):
    _, image = loaded
    assert close(image["a.jpg"], RED)
    assert close(image["B.JPG"], GREEN)
    assert close(image["c.jpeg"], BLUE)


def test_transparent_pixels_become_white(loaded):
    _, image = loaded
    rgba = image["d_rgba.png"]
    assert np.all(rgba[:, : W // 2 - 1] == WHITE)  # was transparent black
    assert np.all(rgba[:, W // 2 + 1 :] == 0)  # was opaque black
    assert np.all(image["i_la.png"] == 255)


def test_palette_transparency_becomes_white(loaded):
    _, image = loaded
    palette = image["f_palette.png"]
    assert np.all(palette[: H // 2 - 1] == WHITE)
    assert np.all(palette[H // 2 + 1 :] == BLUE)


def test_greyscale_becomes_three_equal_channels(loaded):
    _, image = loaded
    assert np.all(image["e_grey.png"] == 100)


def test_cmyk_becomes_rgb(loaded):
    _, image = loaded
    assert close(image["g_cmyk.jpg"], RED)


def test_16_bit_greyscale_is_rescaled_not_clipped(loaded):
    _, image = loaded
    sixteen = image["h_16bit.png"]
    assert np.all(sixteen[: H // 2 - 1] == 255)
    assert np.all(sixteen[H // 2 + 1 :] == 128)  # clipping would give 255


@pytest.mark.skipif(not HAS_WEBP, reason="this Pillow has no WebP support")
def test_webp_is_loaded(loaded):
    _, image = loaded
    assert np.all(image["m.webp"] == BLUE)


# --- orientation, size and crop -------------------------------------------------------


def test_exif_orientation_6_turns_the_cover_upright(loaded):
    _, image = loaded
    upright = image["j_rotated.jpg"]
    # Orientation 6: turn 90 degrees clockwise to view, so the red
    # top-left corner of the stored (landscape) image ends up top-right.
    assert close(upright[2, W - 3], RED, 40)
    assert close(upright[2, 2], BLUE, 40)
    assert close(upright[H - 3, W - 3], BLUE, 40)


def test_exif_rotation_counts_for_the_common_size(tmp_path):
    for name in ("a.jpg", "b.jpg"):  # landscape as stored, portrait when upright
        rotated_source().save(tmp_path / name, exif=with_orientation(6))
    solid(RED, (H, W)).save(tmp_path / "c.jpg")  # a true landscape cover
    assert load_covers(tmp_path).images.shape == (3, H, W, 3)


def test_exif_orientation_3_turns_the_cover_half_round(tmp_path):
    image = solid(BLUE)
    image.paste(RED, (0, 0, 10, 10))
    image.save(tmp_path / "a.jpg", quality=95, exif=with_orientation(3))
    upright = load_covers(tmp_path).images[0]
    assert close(upright[H - 3, W - 3], RED, 40)
    assert close(upright[2, 2], BLUE, 40)


def test_a_wider_cover_is_cropped_to_its_centre(loaded):
    _, image = loaded
    assert np.all(image["k_wide.png"] == GREEN)  # the blue and red thirds are cut off


def test_a_bigger_cover_is_scaled_down(loaded):
    _, image = loaded
    assert np.all(image["l_big.Png"] == RED)


def test_crop_keeps_the_aspect_ratio(tmp_path):
    # A 120x60 cover with a centred circle-ish square: after scaling to height
    # 30 and cropping to 20x30, the square must still be square.
    image = solid(WHITE, (120, 60))
    image.paste(BLUE, (45, 15, 75, 45))  # 30x30 square in the centre
    image.save(tmp_path / "a.png")
    cover = load_covers(tmp_path, size=(20, 30)).images[0]
    blue = np.all(cover == BLUE, axis=-1)
    rows, cols = np.nonzero(blue)
    assert np.ptp(rows) == np.ptp(cols)  # as tall as wide
    assert abs(rows.mean() - 14.5) < 1 and abs(cols.mean() - 9.5) < 1  # still centred


def test_explicit_size_overrides_the_common_size(mixed):
    covers = load_covers(mixed, size=(20, 25))
    assert covers.images.shape == (len(VALID), 25, 20, 3)
    assert covers.names == sorted(VALID)


def test_without_a_majority_the_median_shape_and_area_is_used(tmp_path):
    solid(RED, (50, 50)).save(tmp_path / "a.png")
    solid(RED, (W, H)).save(tmp_path / "b.png")
    solid(RED, (W, H)).save(tmp_path / "c.png")
    solid(RED, (50, 50)).save(tmp_path / "d.png")
    # median aspect (1 and 1.5) is 1.25, median area (2400 and 2500) is 2450
    covers = load_covers(tmp_path)
    assert covers.images.shape == (4, 55, 44, 3)
    assert covers.resized == "4 of 4 covers were resized to 44x55 px (the folder's typical size)"


def test_a_majority_beats_sorted_order(tmp_path):
    solid(RED, (50, 50)).save(tmp_path / "a.png")
    for name in "bcd":
        solid(RED, (W, H)).save(tmp_path / f"{name}.png")
    assert load_covers(tmp_path).images.shape == (4, H, W, 3)


def posters_of_slightly_different_sizes(folder, n=12):
    for i in range(n):
        solid(BLUE, (W + i, H + i)).save(folder / f"poster{i:02d}.png")


def test_one_huge_cover_does_not_enlarge_the_others(tmp_path):
    posters_of_slightly_different_sizes(tmp_path)
    solid(RED, (30 * W, 30 * H)).save(tmp_path / "000.jpg")  # sorts first
    covers = load_covers(tmp_path)
    height, width = covers.images.shape[1:3]
    assert W <= width <= W + 11 and H <= height <= H + 11  # among the posters' sizes
    assert covers.names[0] == "000.jpg" and close(covers.images[0], RED)
    # poster06 (46x66) is the median and keeps its size; the other 12 are resized
    assert covers.resized.startswith(f"12 of 13 covers were resized to {width}x{height} px")


def test_one_icon_does_not_shrink_the_others(tmp_path):
    posters_of_slightly_different_sizes(tmp_path)
    solid(RED, (1, 1)).save(tmp_path / "000_icon.png")
    covers = load_covers(tmp_path)
    height, width = covers.images.shape[1:3]
    assert W <= width <= W + 11 and H <= height <= H + 11
    assert np.all(covers.images[0] == RED)  # the icon is scaled up, a plain red cover


def test_the_long_side_is_capped_at_max_side(tmp_path):
    for name in "abc":
        solid(RED, (400, 600)).save(tmp_path / f"{name}.png")
    covers = load_covers(tmp_path)
    assert covers.images.shape == (3, 300, 200, 3)
    assert covers.resized == ("3 of 3 covers were resized to 200x300 px "
                              "(the folder's typical size, long side capped at 300 px)")
    assert load_covers(tmp_path, max_side=90).images.shape == (3, 90, 60, 3)
    assert load_covers(tmp_path, max_side=600).resized == ""


def test_an_explicit_size_is_not_capped(tmp_path):
    solid(RED, (400, 600)).save(tmp_path / "a.png")
    covers = load_covers(tmp_path, size=(400, 600), max_side=10)
    assert covers.images.shape == (1, 600, 400, 3) and covers.resized == ""


@pytest.mark.parametrize("max_side", [0, -5, 2.5, "300", True, None])
def test_a_bad_max_side_is_a_value_error(tmp_path, max_side):
    solid(RED).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="max_side must be"):
        load_covers(tmp_path, max_side=max_side)


def test_resized_names_the_count_of_covers_of_another_size(loaded):
    covers, _ = loaded  # k_wide.png and l_big.Png are not 40x60
    assert covers.resized == (f"2 of {len(VALID)} covers were resized to {W}x{H} px "
                              "(the folder's typical size)")


def test_the_bundled_covers_keep_their_size():
    covers = load_covers(helpers.BUNDLED_COVERS)
    assert covers.images.shape == (100, 278, 185, 3)
    assert covers.resized == "" and covers.skipped == []


def test_a_big_jpeg_is_decoded_at_reduced_scale(tmp_path, monkeypatch):
    from PIL import JpegImagePlugin

    decoded = []
    real_load = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        decoded.append(self.size)  # the size the pixels are decoded at
        return real_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    solid(RED, (2400, 1600)).save(tmp_path / "photo.jpg")
    covers = load_covers(tmp_path)
    assert covers.images.shape == (1, 200, 300, 3)
    assert decoded[0] == (300, 200)  # 1/8 scale: 2400x1600 is never in memory
    assert close(covers.images[0], RED)


@pytest.mark.parametrize(
    "size",
    [(0, 10), (10, -1), (10,), (10, 20, 3), 10, "ab", (1.5, 2), (True, 3), ("10", "20")],
)
def test_a_bad_size_is_a_value_error(tmp_path, size):
    solid(RED).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="size must be"):
        load_covers(tmp_path, size=size)


def test_numpy_integers_are_a_valid_size(tmp_path):
    solid(RED).save(tmp_path / "a.png")
    assert load_covers(tmp_path, size=np.array([8, 12])).images.shape == (1, 12, 8, 3)


# --- broken files, one kind at a time ---------------------------------------------------


def only_skip(tmp_path, name, data):
    """Load a folder with one good cover and one bad file; return the bad file's reason."""
    solid(RED).save(tmp_path / "good.png")
    (tmp_path / name).write_bytes(data)
    covers = load_covers(tmp_path)
    assert covers.names == ["good.png"]
    assert [skipped_name for skipped_name, _ in covers.skipped] == [name]
    return covers.skipped[0][1]


def test_zero_bytes(tmp_path):
    assert only_skip(tmp_path, "a.jpg", b"") == "empty file (0 bytes)"


def test_truncated_jpeg(tmp_path):
    whole = jpeg_bytes(noise())
    assert only_skip(tmp_path, "a.jpg", whole[: len(whole) // 2]).startswith("truncated image")


def test_truncated_png(tmp_path):
    buffer = io.BytesIO()
    noise().save(buffer, "PNG")
    whole = buffer.getvalue()
    assert only_skip(tmp_path, "a.png", whole[: len(whole) // 2]).startswith("truncated image")


def test_truncated_is_detected_even_if_pillow_was_told_to_accept_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    whole = jpeg_bytes(noise())
    assert only_skip(tmp_path, "a.jpg", whole[: len(whole) // 2]).startswith("truncated image")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the setting is given back


def test_random_bytes_named_jpg(tmp_path):
    noise = np.random.default_rng(0).bytes(5000)
    assert only_skip(tmp_path, "a.jpg", noise).startswith("not a readable image")


def test_text_named_png(tmp_path):
    assert only_skip(tmp_path, "a.png", b"hello\n").startswith("not a readable image")


def test_gif_named_jpg_is_not_opened(tmp_path):
    buffer = io.BytesIO()
    solid(RED).save(buffer, "GIF")
    assert only_skip(tmp_path, "a.jpg", buffer.getvalue()).startswith("not a readable image")


def test_png_named_jpg_is_fine(tmp_path):
    buffer = io.BytesIO()
    solid(BLUE).save(buffer, "PNG")
    (tmp_path / "a.jpg").write_bytes(buffer.getvalue())
    assert np.all(load_covers(tmp_path).images[0] == BLUE)


def test_text_file(tmp_path):
    reason = only_skip(tmp_path, "notes.txt", b"hello\n")
    assert reason == "not a JPEG, PNG or WebP file (extension .txt)"


def test_other_image_formats_are_reported_not_loaded(tmp_path):
    buffer = io.BytesIO()
    solid(RED).save(buffer, "GIF")
    reason = only_skip(tmp_path, "a.gif", buffer.getvalue())
    assert reason == "not a JPEG, PNG or WebP file (extension .gif)"


def test_decompression_bomb_error_is_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    solid(RED, (20, 20)).save(tmp_path / "small.png")  # 400 pixels: fine
    solid(RED).save(tmp_path / "huge.png")  # 2400 pixels > 2 x 1000: Pillow raises
    covers = load_covers(tmp_path)
    assert covers.names == ["small.png"]
    assert covers.skipped == [
        ("huge.png", "too large: 2400 pixels, over Pillow's decompression-bomb limit")
    ]


def test_decompression_bomb_warning_is_a_skip_not_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    solid(RED, (20, 20)).save(tmp_path / "small.png")
    solid(RED).save(tmp_path / "big.png")  # 2400 pixels: between 1x and 2x the limit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        covers = load_covers(tmp_path)
    assert caught == []
    assert covers.names == ["small.png"]
    assert covers.skipped == [
        ("big.png", "too large: 2400 pixels, over Pillow's decompression-bomb limit")
    ]


@pytest.mark.skipif(not HAS_WEBP, reason="this Pillow has no WebP support")
def test_truncated_webp(tmp_path):
    buffer = io.BytesIO()
    noise().save(buffer, "WEBP")
    whole = buffer.getvalue()
    assert only_skip(tmp_path, "a.webp", whole[: len(whole) // 2]).startswith("not a readable")


def test_webp_without_pillow_support_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(images_module.features, "check", lambda feature: False)
    solid(RED).save(tmp_path / "good.png")
    (tmp_path / "a.webp").write_bytes(b"RIFF....WEBP")
    covers = load_covers(tmp_path)
    assert covers.skipped == [("a.webp", "WebP is not supported by this installation of Pillow")]


# Thousands of damaged files: see tests/test_fuzz.py.


# --- folders without covers -------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="does not exist") as error:
        load_covers(tmp_path / "nowhere")
    assert "nowhere" in str(error.value)


def test_a_file_is_not_a_folder(tmp_path):
    solid(RED).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="is not a folder"):
        load_covers(tmp_path / "a.png")


def test_empty_folder(tmp_path):
    with pytest.raises(ValueError) as error:
        load_covers(tmp_path)
    message = str(error.value)
    assert message.startswith(f"no readable cover in '{tmp_path}'")
    assert "\n" not in message


def test_folder_with_only_hidden_files_and_subfolders(tmp_path):
    solid(RED).save(tmp_path / ".hidden.jpg")
    (tmp_path / "sub").mkdir()
    solid(RED).save(tmp_path / "sub" / "a.jpg")
    with pytest.raises(ValueError, match="no readable cover in .*hidden files and subfolders"):
        load_covers(tmp_path)


def test_folder_of_only_broken_files(tmp_path):
    write_broken_files(tmp_path)
    with pytest.raises(ValueError) as error:
        load_covers(tmp_path)
    message = str(error.value)
    assert message.startswith(f"no readable cover in '{tmp_path}': {len(BROKEN)} files skipped")
    assert "README: not a JPEG, PNG or WebP file (no extension)" in message  # first 3 named
    assert "and 3 more" in message
    assert "\n" not in message


def test_folder_whose_only_cover_is_truncated(tmp_path):
    # Truncation shows up only in the second pass, when the pixels are decoded.
    whole = jpeg_bytes(noise())
    (tmp_path / "a.jpg").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"no readable cover in .*a\.jpg: truncated image"):
        load_covers(tmp_path)


def test_a_failed_second_pass_keeps_names_and_images_aligned(tmp_path):
    whole = jpeg_bytes(noise())
    solid(RED).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(whole[: len(whole) // 2])
    solid(BLUE).save(tmp_path / "c.png")
    covers = load_covers(tmp_path)
    assert covers.names == ["a.png", "c.png"]
    assert np.all(covers.images[0] == RED) and np.all(covers.images[1] == BLUE)
    assert covers.skipped[0][0] == "b.jpg"


# --- hostile files: any problem with one file skips that file, by name ------------------


def bad_exif_jpeg(path):
    """The issue's case, exactly: orientation 6 plus a Make tag retyped as RATIONAL."""
    exif = Image.Exif()
    exif[274] = 6
    exif[271] = "Cam"
    data = exif.tobytes().replace(b"\x01\x0f\x00\x02", b"\x01\x1a\x00\x02", 1)
    Image.new("RGB", (16, 24)).save(path, exif=data)


def test_malformed_exif_skips_that_file_by_name(tmp_path):
    solid(RED).save(tmp_path / "good.png")
    bad_exif_jpeg(tmp_path / "bad.jpg")
    covers = load_covers(tmp_path)
    assert covers.names == ["good.png"]
    [(name, reason)] = covers.skipped
    assert name == "bad.jpg" and reason.startswith("malformed EXIF data: ")


def test_malformed_exif_without_rotation_is_harmless(tmp_path):
    exif = Image.Exif()
    exif[271] = "Cam"  # no orientation tag: nothing to turn, nothing to fail
    data = exif.tobytes().replace(b"\x01\x0f\x00\x02", b"\x01\x1a\x00\x02", 1)
    solid(RED).save(tmp_path / "a.jpg", exif=data)
    assert load_covers(tmp_path).names == ["a.jpg"]


@pytest.mark.parametrize("where", ["read_header", "read_cover"])
@pytest.mark.parametrize("error", [TypeError("bad operand"), KeyError(7), RuntimeError("boom"),
                                   IndexError("tuple index out of range"), MemoryError()])
def test_any_exception_in_one_file_skips_only_that_file(tmp_path, monkeypatch, where, error):
    solid(RED).save(tmp_path / "a.png")
    solid(BLUE).save(tmp_path / "b.png")
    real = getattr(images_module, where)

    def failing(path, *args):
        if path.name == "a.png":
            raise error
        return real(path, *args)

    monkeypatch.setattr(images_module, where, failing)
    covers = load_covers(tmp_path)
    assert covers.names == ["b.png"] and np.all(covers.images[0] == BLUE)
    [(name, reason)] = covers.skipped
    assert name == "a.png" and reason.startswith("not ")
    assert "\n" not in reason and len(reason) <= 160


def test_ctrl_c_is_not_swallowed(tmp_path, monkeypatch):
    solid(RED).save(tmp_path / "a.png")

    def interrupted(path, size):
        raise KeyboardInterrupt

    monkeypatch.setattr(images_module, "read_cover", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_covers(tmp_path)


def test_names_with_newlines_and_terminal_escapes_are_escaped_in_reasons(tmp_path):
    solid(RED).save(tmp_path / "good\nname.png")
    (tmp_path / "evil\x1b[31m\n.jpg").write_bytes(b"not a picture")
    (tmp_path / "rtl\u202egnp.jpg").write_bytes(b"")
    covers = load_covers(tmp_path)
    assert covers.names == ["good\nname.png"]  # the real name, to find the file
    assert dict(covers.skipped) == {
        "evil\\x1b[31m\\n.jpg": "not a readable image: no JPEG, PNG or WebP data found",
        "rtl\\u202egnp.jpg": "empty file (0 bytes)",
    }


def test_printable_keeps_ordinary_names():
    for name in ["poster_000.jpg", "Amélie (2001).png", "千と千尋.webp", "a b,c.jpg"]:
        assert images_module.printable(name) == name


@pytest.mark.skipif(not hasattr(__import__("os"), "fsencode"), reason="POSIX names")
def test_a_name_that_is_not_utf8_is_loaded_and_printable(tmp_path):
    import os

    name = os.fsdecode(b"latin1_\xff.jpg")
    try:
        solid(RED).save(tmp_path / name, format="JPEG")
    except (UnicodeEncodeError, OSError):
        pytest.skip("this file system refuses names that are not UTF-8")
    (tmp_path / os.fsdecode(b"broken_\xfe.png")).write_bytes(b"xx")
    covers = load_covers(tmp_path)
    assert covers.names == [name]
    assert covers.skipped[0][0] == "broken_\\xfe.png"
    assert images_module.printable(name) == "latin1_\\xff.jpg"


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs FIFOs")
def test_special_files_named_like_covers_are_skipped_without_opening_them(tmp_path):
    import os

    solid(RED).save(tmp_path / "good.png")
    os.mkfifo(tmp_path / "fifo.jpg")  # opening it would block forever
    os.symlink("/dev/zero", tmp_path / "zero.jpg")  # reading it would never end
    os.symlink(tmp_path / "nowhere.png", tmp_path / "dangling.png")
    os.symlink(tmp_path / "loop.png", tmp_path / "loop.png")
    (tmp_path / "folder.jpg").mkdir()  # a subfolder, ignored like any other
    covers = load_covers(tmp_path)
    assert covers.names == ["good.png"]
    assert covers.skipped == [(name, "not a regular file") for name in
                              ["dangling.png", "fifo.jpg", "loop.png", "zero.jpg"]]


def patched_png_size(width, height):
    """A tiny valid PNG whose header claims width x height (CRC fixed up)."""
    import struct
    import zlib

    buffer = io.BytesIO()
    solid(RED, (2, 2)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_huge_dimensions_in_a_header_are_refused_quickly(tmp_path):
    import time

    (tmp_path / "claims_huge.png").write_bytes(patched_png_size(100_000, 100_000))
    (tmp_path / "claims_big.png").write_bytes(patched_png_size(9_000, 9_000))  # 81 MP, no data
    sof = jpeg_bytes(solid(RED, (16, 16)))
    at = sof.index(b"\xff\xc0") + 5  # SOF0: length(2) precision(1) height(2) width(2)
    (tmp_path / "claims_huge.jpg").write_bytes(sof[:at] + b"\xea\x60\xea\x60" + sof[at + 4:])
    solid(BLUE).save(tmp_path / "good.png")
    start = time.perf_counter()
    covers = load_covers(tmp_path, size=(W, H))
    assert time.perf_counter() - start < 5
    assert covers.names == ["good.png"]
    reasons = dict(covers.skipped)
    assert reasons["claims_huge.png"].startswith("too large: 10000000000 pixels")
    assert reasons["claims_huge.jpg"].startswith("too large: 3600000000 pixels")
    assert reasons["claims_big.png"].startswith("truncated image")


def test_huge_claimed_size_does_not_decide_the_working_size(tmp_path):
    (tmp_path / "claims_big.png").write_bytes(patched_png_size(9_000, 9_000))
    for name in "abc":
        solid(BLUE).save(tmp_path / f"{name}.png")
    assert load_covers(tmp_path).images.shape == (3, H, W, 3)


@pytest.mark.parametrize("extension", ["png", "webp"])
def test_animated_files_give_their_first_frame(tmp_path, extension):
    if extension == "webp" and not HAS_WEBP:
        pytest.skip("this Pillow has no WebP support")
    frames = [solid(RED), solid(GREEN), solid(BLUE)]
    frames[0].save(tmp_path / f"anim.{extension}", save_all=True, append_images=frames[1:],
                   **({"lossless": True} if extension == "webp" else {}))
    covers = load_covers(tmp_path)
    assert covers.names == [f"anim.{extension}"] and np.all(covers.images[0] == RED)


def test_a_one_pixel_image_becomes_a_plain_cover(tmp_path):
    solid(GREEN, (1, 1)).save(tmp_path / "dot.png")
    solid(RED).save(tmp_path / "a.png")
    solid(RED).save(tmp_path / "b.png")
    covers = load_covers(tmp_path)
    assert covers.images.shape == (3, H, W, 3)
    assert np.all(covers.images[covers.names.index("dot.png")] == GREEN)


def test_extreme_aspect_ratios_are_cropped_not_refused(tmp_path):
    solid(RED, (1, 3000)).save(tmp_path / "needle.png")
    solid(BLUE, (3000, 1)).save(tmp_path / "line.png")
    for name in "abc":
        solid(GREEN).save(tmp_path / f"{name}.png")
    covers = load_covers(tmp_path)
    assert covers.images.shape == (5, H, W, 3)
    assert covers.skipped == []
    assert np.all(covers.images[covers.names.index("needle.png")] == RED)


def test_cmyk_jpeg_with_a_garbage_icc_profile_is_loaded(tmp_path):
    solid((0, 255, 255, 0), mode="CMYK").save(tmp_path / "cmyk.jpg", icc_profile=b"garbage" * 20)
    assert close(load_covers(tmp_path).images[0], RED)


def test_png_with_a_long_text_chunk_loads(tmp_path):
    from PIL import PngImagePlugin

    plain = PngImagePlugin.PngInfo()
    plain.add_itxt("Comment", "x" * 3_000_000, zip=False)  # 3 MB of text
    solid(RED).save(tmp_path / "long_text.png", pnginfo=plain)
    zipped = PngImagePlugin.PngInfo()
    zipped.add_itxt("Comment", "x" * 5_000_000, zip=True)  # unzips to 5 MB: over Pillow's 1 MB
    solid(RED).save(tmp_path / "zipped_text.png", pnginfo=zipped)
    limit = PngImagePlugin.MAX_TEXT_CHUNK
    covers = load_covers(tmp_path)
    assert PngImagePlugin.MAX_TEXT_CHUNK == limit  # Pillow's own limit is given back
    assert covers.names == ["long_text.png", "zipped_text.png"] and covers.skipped == []


@pytest.mark.slow
def test_png_with_a_text_bomb_is_skipped(tmp_path):
    from PIL import PngImagePlugin

    bomb = PngImagePlugin.PngInfo()
    bomb.add_itxt("Comment", "x" * 70_000_000, zip=True)  # 70 KB that unzip to 70 MB
    solid(RED).save(tmp_path / "text_bomb.png", pnginfo=bomb)
    solid(RED).save(tmp_path / "good.png")
    covers = load_covers(tmp_path)
    assert covers.names == ["good.png"]
    assert covers.skipped[0][0] == "text_bomb.png"
    assert covers.skipped[0][1].startswith("not a readable image: Decompressed data too large")


def test_a_multi_picture_jpeg_from_a_camera_is_loaded(tmp_path):
    solid(RED).save(tmp_path / "stereo.jpg", "MPO", save_all=True, append_images=[solid(BLUE)])
    with Image.open(tmp_path / "stereo.jpg") as image:
        assert image.format == "MPO"
    assert close(load_covers(tmp_path).images[0], RED)


# --- memory depends on the number of covers and the working size only -------------------


def write_photos(folder, n, size):
    """n smooth photo-like JPEGs (gradients compress like photos, unlike noise)."""
    width, height = size
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    for i in range(n):
        pixels = np.stack([(x + 20 * i) % 256 + 0 * y, (y + 35 * i) % 256 + 0 * x,
                           ((x + y) / 2 + 50 * i) % 256], axis=-1).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{i:03d}.jpg", quality=85)


LOAD = "import sys; sys.path.insert(0, sys.argv[1]); import helpers; " \
       "print(helpers.load_covers(sys.argv[2]).images.shape)"
# Linux keeps a process's peak memory across exec, so a child of the (big) test
# process would report the test's own peak. A small Python in between starts
# the measured one, and reads its peak from RUSAGE_CHILDREN.
MEASURE = ("import resource, subprocess, sys; "
           "out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True); "
           "print(out.stdout.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")


@pytest.mark.slow
def test_big_photos_load_in_little_memory(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    write_photos(tmp_path, 8, (4000, 3000))  # 8 phone photos: 288 MB of pixels at full size
    repo = str(Path(helpers.__file__).parent)
    result = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-c", LOAD, repo,
                             str(tmp_path)], capture_output=True, text=True, timeout=300,
                            check=True)
    shape, peak_mb = result.stdout.rsplit(" ", 1)
    assert shape == "(8, 225, 300, 3)"
    assert int(peak_mb) < 150, f"peak {peak_mb} MB"  # full-size decoding needs over 300 MB


def test_a_folder_name_with_control_characters_is_escaped_in_errors(tmp_path):
    folder = tmp_path / "new\nline\x1b[2J"
    folder.mkdir()
    with pytest.raises(ValueError) as error:
        load_covers(folder)
    message = str(error.value)
    assert "\n" not in message and "\x1b" not in message and "new\\nline\\x1b[2J" in message
