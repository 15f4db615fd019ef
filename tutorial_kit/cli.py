"""The command line: ``python helpers.py COVERS_DIR [options]``.

Parses the options, runs ``helpers.arrange_covers`` and writes the outputs.
Bad input ends with one ``error: ...`` line and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from helpers import (NEIGHBORHOODS, PLACEMENTS, PRESETS, arrange_covers, format_quality,
                     load_covers)
from tutorial_kit.download import download_command
from tutorial_kit.files import save_png, write_positions


def _parser():
    parser = argparse.ArgumentParser(
        prog="python helpers.py",
        description="Arrange a folder of movie covers on a grid with a Self-Organizing Map.")
    parser.add_argument("covers_dir", nargs="?", help="folder of cover images (jpg, png, webp)")
    parser.add_argument("--rows", type=int, help="grid rows (default: smallest near-square grid)")
    parser.add_argument("--cols", type=int, help="grid columns")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", help="write the grid as a full-resolution PNG here")
    parser.add_argument("--positions", help="write file,row,col of every cover to this CSV")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="'original' reproduces the 2019 post (default: default)")
    parser.add_argument("--sigma", type=float, help="initial neighbourhood radius")
    parser.add_argument("--learning-rate", type=float, help="initial learning rate")
    parser.add_argument("--iterations", type=int, help="number of training steps")
    parser.add_argument("--neighborhood", choices=NEIGHBORHOODS,
                        help="neighbourhood function")
    parser.add_argument("--placement", choices=PLACEMENTS, default="assignment",
                        help="how covers get cells (default: assignment)")
    parser.add_argument("--border", type=int, default=0, help="pixels between cells in the PNG")
    parser.add_argument("--allow-drop", action="store_true",
                        help="drop covers that do not fit a too-small grid (they are listed)")
    parser.add_argument("--download-originals", metavar="FOLDER",
                        help="download the 100 covers of the 2019 post into FOLDER and stop")
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 on success)."""
    args = _parser().parse_args(argv)
    if args.download_originals:
        return download_command(args.download_originals)
    if not args.covers_dir:
        _parser().error("give a COVERS_DIR (or --download-originals FOLDER)")
    try:
        if args.border < 0:
            raise ValueError(f"--border must be >= 0, got {args.border}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            covers, result = _run_cli(args)
        for warning in caught:  # e.g. MiniSom's "sigma might be too high"
            print(f"warning: {str(warning.message).strip()}", file=sys.stderr)
        if args.out:
            save_png(result.mosaic(args.border), args.out)
        if args.positions:
            write_positions(args.positions, covers.names, result.placement.positions)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    placed = len(covers.names) - len(result.placement.dropped)
    print(f"{placed} covers on a {result.rows}x{result.cols} grid: {format_quality(result.quality)}")
    return 0


def _run_cli(args):
    """Load, report skipped files, arrange and report dropped covers."""
    covers = load_covers(args.covers_dir)
    for name, reason in covers.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    result = arrange_covers(
        covers, args.rows, args.cols, preset=args.preset, placement=args.placement,
        seed=args.seed, allow_drop=args.allow_drop, progress=True, sigma=args.sigma,
        learning_rate=args.learning_rate, iterations=args.iterations,
        neighborhood_function=args.neighborhood)
    for index in result.placement.dropped:
        print(f"dropped {covers.names[index]}: no room on the "
              f"{result.rows}x{result.cols} grid", file=sys.stderr)
    return covers, result

