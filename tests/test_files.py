"""Tests of tutorial_kit/files.py: outputs are checked first, then written whole or not at all."""
import csv
import io
import os
import stat
import zlib

import numpy as np
import pytest
from PIL import Image

from tutorial_kit import files
from tutorial_kit.files import (OutputError, check_distinct, check_target, positions_csv,
                                save_png, spreadsheet_safe, write_atomically, write_files)

IMAGE = np.zeros((6, 4, 3), dtype=np.uint8)


# --- check_target ---------------------------------------------------------------------


def test_a_new_path_and_a_regular_file_are_accepted(tmp_path):
    assert check_target(tmp_path / "new.png", suffixes=(".png",)) == tmp_path / "new.png"
    (tmp_path / "old.png").write_bytes(b"x")
    assert check_target(tmp_path / "old.png") == tmp_path / "old.png"
    # a missing folder is fine: it is created when writing
    assert check_target(tmp_path / "a" / "b" / "new.png", suffixes=(".png",))


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink", "dangling symlink", "device"])
def test_anything_but_a_regular_file_is_refused(tmp_path, kind):
    target = tmp_path / "out.png"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        (tmp_path / "real.png").write_bytes(b"precious")
        target.symlink_to(tmp_path / "real.png")
    elif kind == "dangling symlink":
        target.symlink_to(tmp_path / "nowhere.png")
    else:
        target = os.devnull
    with pytest.raises(OutputError, match="is a (folder|FIFO|symbolic link|device)"):
        check_target(target)


def test_an_empty_path_is_refused():
    for empty in ("", "   ", None):
        with pytest.raises(OutputError, match="is empty"):
            check_target(empty, what="--out")


def test_other_extensions_are_refused(tmp_path):
    for name in ("grid.jpg", "grid", "grid.png.txt"):
        with pytest.raises(OutputError, match=r"must end with \.png"):
            check_target(tmp_path / name, suffixes=(".png",))
    assert check_target(tmp_path / "GRID.PNG", suffixes=(".png",))  # any case


def test_a_name_too_long_for_the_file_system_is_refused_before_any_work(tmp_path):
    with pytest.raises(OutputError, match="longer than 255 bytes"):
        check_target(tmp_path / ("x" * 252 + ".png"))
    check_target(tmp_path / ("x" * 251 + ".png"))  # 255 bytes: fine


def test_a_file_in_the_way_of_the_folder_is_refused(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_target(tmp_path / "file" / "sub" / "grid.png")


def test_input_covers_and_the_covers_folder_are_refused(tmp_path):
    covers = tmp_path / "covers"
    covers.mkdir()
    Image.fromarray(IMAGE).save(covers / "a.png")
    with pytest.raises(OutputError, match="is an input cover"):
        check_target(covers / "a.png", covers_dir=covers)
    with pytest.raises(OutputError, match="inside the covers folder"):
        check_target(covers / "grid.png", covers_dir=covers)
    os.link(covers / "a.png", tmp_path / "link.png")
    with pytest.raises(OutputError, match="same file as the input cover 'a.png'"):
        check_target(tmp_path / "link.png", covers_dir=covers)
    assert check_target(tmp_path / "grid.png", covers_dir=covers)  # beside it: fine


def test_the_same_file_twice_is_refused(tmp_path):
    with pytest.raises(OutputError, match="both as the grid and as the positions"):
        check_distinct(tmp_path / "x", tmp_path / "." / "x")
    (tmp_path / "a.csv").write_bytes(b"")
    os.link(tmp_path / "a.csv", tmp_path / "b.png")
    with pytest.raises(OutputError):
        check_distinct(tmp_path / "b.png", tmp_path / "a.csv")
    check_distinct(tmp_path / "grid.png", tmp_path / "grid.csv")


# --- writing --------------------------------------------------------------------------


def test_a_250_character_name_is_written(tmp_path):
    target = tmp_path / ("x" * 246 + ".png")
    save_png(IMAGE, target)
    assert os.listdir(tmp_path) == [target.name]


def test_save_png_refuses_a_fifo_and_another_extension(tmp_path):
    os.mkfifo(tmp_path / "grid.png")
    with pytest.raises(OutputError, match="FIFO"):
        save_png(IMAGE, tmp_path / "grid.png")
    with pytest.raises(OutputError, match=r"\.png"):
        save_png(IMAGE, tmp_path / "grid.jpg")
    assert sorted(os.listdir(tmp_path)) == ["grid.png"]
    assert stat.S_ISFIFO(os.lstat(tmp_path / "grid.png").st_mode)


def test_a_pair_is_written_whole(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"old")
    write_files([(tmp_path / "a.png", b"new a"), (tmp_path / "b.csv", b"new b")])
    assert (tmp_path / "a.png").read_bytes() == b"new a"
    assert (tmp_path / "b.csv").read_bytes() == b"new b"
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.csv"]  # no temporary, no backup


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_if_the_second_file_fails_the_first_is_put_back(tmp_path, monkeypatch, failure):
    (tmp_path / "a.png").write_bytes(b"old a")
    real_replace = os.replace
    calls = []

    def replace(source, target, **folders):
        calls.append(target)
        if len(calls) == 2:  # the second file of the pair
            raise failure
        return real_replace(source, target, **folders)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(type(failure)):
        write_files([(tmp_path / "a.png", b"new a"), (tmp_path / "b.csv", b"new b"),
                     (tmp_path / "new.png", b"new")])
    monkeypatch.setattr(files.os, "replace", real_replace)
    assert (tmp_path / "a.png").read_bytes() == b"old a"  # neither: the old file is back
    assert sorted(os.listdir(tmp_path)) == ["a.png"]  # nothing new, nothing temporary


def test_a_target_that_became_a_folder_is_named_and_nothing_is_written(tmp_path):
    (tmp_path / "b.csv").mkdir()  # after the check, before the write
    with pytest.raises(OutputError, match=r"b\.csv' became a folder during the run: nothing was"):
        write_files([(tmp_path / "a.png", b"new a"), (tmp_path / "b.csv", b"new b")])
    assert os.listdir(tmp_path) == ["b.csv"]


# --- the positions CSV ----------------------------------------------------------------


@pytest.mark.parametrize("name, cell", [
    ("=HYPERLINK(\"http://x\").jpg", "'=HYPERLINK(\"http://x\").jpg"),
    ("+1.jpg", "'+1.jpg"), ("-1.jpg", "'-1.jpg"), ("@SUM(1).jpg", "'@SUM(1).jpg"),
    ("\tx.jpg", "'\tx.jpg"), ("plain=+.jpg", "plain=+.jpg"), ("'quoted.jpg", "'quoted.jpg"),
])
def test_cells_a_spreadsheet_would_run_are_neutralised(name, cell):
    assert spreadsheet_safe(name) == cell


def test_positions_csv_lists_placed_covers_only(tmp_path):
    write_atomically(tmp_path / "p.csv", positions_csv(["a.jpg", "=b.jpg", "c\n.jpg"],
                                                       [(0, 1), (-1, -1), (1, 0)]))
    rows = list(csv.reader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8"))))
    assert rows == [["file", "row", "col"], ["a.jpg", "0", "1"], ["c\n.jpg", "1", "0"]]


def test_a_name_that_is_not_utf8_keeps_its_bytes():
    name = os.fsdecode(b"latin1_\xff.jpg")
    data = positions_csv([name], [(0, 0)])
    assert data == b"file,row,col\nlatin1_\xff.jpg,0,0\n"
    assert os.fsencode(name) in data  # the bytes name the file on disk


# --- the PNG writer (tutorial_kit.files.png_bytes) ---------------------------

def _idat_stream(png):
    """The zlib stream of a PNG: its IDAT chunks' data, joined."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, stream = 8, b""
    while position < len(png):
        length = int.from_bytes(png[position:position + 4], "big")
        if png[position + 4:position + 8] == b"IDAT":
            stream += png[position + 8:position + 8 + length]
        position += 12 + length
    return stream


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (7, 5, 4), (6, 9, 1), (2780, 1850, 3),
                                   (4000, 700, 3)], ids=str)
def test_png_bytes_decode_to_the_same_pixels(shape, monkeypatch):
    # the big shapes span several bands: each band's first row is filtered
    # against the last row of the band before it
    monkeypatch.setattr(files, "_PNG_BAND_BYTES", 1 << 20)
    image = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    image[: shape[0] // 2] //= 16  # some smooth rows too, which deflate shrinks
    png = files.png_bytes(image)
    decoded = np.asarray(Image.open(io.BytesIO(png)))
    np.testing.assert_array_equal(decoded.reshape(image.shape), image)
    # zlib checks the stream's Adler-32 over all the bands
    raw = zlib.decompress(_idat_stream(png))
    assert len(raw) == shape[0] * (1 + image[0].size)


def test_png_chunks_of_any_bands_and_threads_make_the_same_pixels():
    """The command line streams a row of cells at a time; the pixels do not depend on the bands."""
    image = np.random.default_rng(3).integers(0, 256, size=(900, 80, 3), dtype=np.uint8)
    image[300:600] //= 32
    cuts = [0, 1, 2, 278, 556, 557, 900]
    streams = [b"".join(files.png_chunks((image[a:b] for a, b in zip(cuts, cuts[1:])), image.shape,
                                         threads=threads)) for threads in (1, 2, 3)]
    assert streams[0] == streams[1] == streams[2]  # the same file on any number of threads
    for png in streams[:1] + [files.png_bytes(image)]:
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), image)
        raw = zlib.decompress(_idat_stream(png))  # zlib checks the Adler-32 summed over the bands
        assert raw[::1 + 80 * 3].count(2) == 900  # "Up" on every row


@pytest.mark.parametrize("cuts", [[0, 5], [0, 5, 12]], ids=["too few rows", "too many rows"])
def test_png_chunks_refuse_bands_that_do_not_make_the_image(cuts):
    image = np.zeros((12, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="of an image of 11|does not fit an image"):
        b"".join(files.png_chunks((image[a:b] for a, b in zip(cuts, cuts[1:])), (11, 4, 3)))


def test_a_failing_stream_leaves_no_file_and_no_temporary(tmp_path):
    def pieces():
        yield b"\x89PNG"
        raise ValueError("the bands ran out")

    with pytest.raises(ValueError, match="ran out"):
        write_atomically(tmp_path / "grid.png", pieces())
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("shape", [(0, 4, 3), (3, 3, 2), (2, 2, 3, 1)])
def test_png_bytes_refuses_shapes_it_cannot_write(shape):
    with pytest.raises(ValueError, match="cannot write an image of shape"):
        files.png_bytes(np.zeros(shape, dtype=np.uint8))
