"""Benchmark: the 2019 post's pipeline and the tutorial's, side by side, in one run.

    python benchmarks/run.py                 # about 1-2 minutes; prints a Markdown report
    python benchmarks/run.py --write         # ... and writes it into benchmarks/README.md
    python benchmarks/run.py --full-original # also trains the post's map for all 2500 steps (~10 min)

What is measured (all in this one process and run, on the same covers):

* The post's pipeline: imageio in a loop, StandardScaler on the raw pixels,
  MiniSom(10, 10, 154290, sigma=3, learning_rate=0.5, 'triangle') with
  train_random(data, 2500), its greedy fill, and one matplotlib ImageGrid axis
  per cell. Training is timed on --post-iterations steps and extrapolated to
  2500 (each step costs the same: one winner search and one update of all
  weights), unless --full-original is given.
* The tutorial's default pipeline (helpers.arrange_covers stage by stage),
  from the folder to the grid PNG. Interpreter start-up and imports excluded.
* DPQ16 (Barthel et al. 2023) of both arrangements and of random ones.
* The Colour-1024 benchmark of the DPQ paper.
* Peak memory (max RSS) of both pipelines, each in a fresh subprocess, and of
  the tutorial's pipeline on 1,000 covers.
* One update of the interactive explorer at default settings.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
import helpers  # noqa: E402
from tutorial_kit.explorer import build_explorer  # noqa: E402

POST_ITERATIONS = 2500


class Timer:
    """Collects named wall-clock stages."""

    def __init__(self):
        self.stages = {}

    def __call__(self, name, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        self.stages[name] = time.perf_counter() - start
        return result

    @property
    def total(self):
        return sum(self.stages.values())


# --------------------------------------------------------------------------
# The post's pipeline
# --------------------------------------------------------------------------

def post_load(folder):
    """The post reads every file with imageio and flattens it."""
    import imageio.v3 as iio

    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return np.array([iio.imread(f)[..., :3].flatten() for f in files]), [f.name for f in files]


def post_scale(pixels):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(pixels)


def post_train(data, iterations, seed):
    from minisom import MiniSom

    som = MiniSom(10, 10, len(data[0]), sigma=3, learning_rate=0.5,
                  neighborhood_function="triangle", random_seed=seed)
    som.train_random(data, iterations)
    return som


def post_place(som, data):
    """The post's rule: first cover stays, collided covers fill the holes."""
    return helpers.place_covers(som.get_weights(), data, "greedy").positions


def post_render(images, positions, path):
    """One ImageGrid axis per cell, as in the post."""
    import matplotlib.pyplot as plt
    from mpl_toolkits.axes_grid1 import ImageGrid

    fig = plt.figure(figsize=(30, 20))
    grid = ImageGrid(fig, 111, nrows_ncols=(10, 10), axes_pad=0)
    for image, (r, c) in zip(images, positions):
        grid[int(r) * 10 + int(c)].imshow(image)
    for ax in grid:
        ax.axis("off")
    fig.savefig(path)
    plt.close(fig)


def run_post(folder, iterations, seed, out):
    t = Timer()
    pixels, names = t("load", post_load, folder)
    if pixels.ndim != 2 or pixels.shape[1] != 278 * 185 * 3:  # before minutes of training
        raise SystemExit(f"the post's pipeline needs covers of 185x278 px, and {folder} has others")
    data = t("scale", post_scale, pixels)
    train_key = f"train ({iterations} steps)"
    som = t(train_key, post_train, data, iterations, seed)
    if iterations != POST_ITERATIONS:
        t.stages["train (2500 steps, extrapolated)"] = t.stages.pop(train_key) * POST_ITERATIONS / iterations
    positions = t("place (greedy)", post_place, som, data)
    t("render (ImageGrid)", post_render, pixels.reshape((len(pixels), 278, 185, 3)), positions, out)
    return t, positions


# --------------------------------------------------------------------------
# The tutorial's pipeline
# --------------------------------------------------------------------------

def run_ours(folder, seed, out, preset="default"):
    t = Timer()
    covers = t("load", helpers.load_covers, folder)
    features = t("features", helpers.make_features, covers.images)
    rows, cols = helpers.grid_shape_for(len(covers.names))
    settings = helpers.som_settings(preset)
    trained = t("train", helpers.train_som, features.values, rows, cols, random_seed=seed, **settings)
    placement = t("place (assignment)", helpers.place_covers, trained.som.get_weights(), features.values)
    mosaic = t("mosaic", helpers.make_mosaic, covers.images, placement.positions, rows, cols)
    t("save PNG", helpers.save_png, mosaic, out)
    return t, covers, features, placement


# --------------------------------------------------------------------------
# Memory, in fresh subprocesses
# --------------------------------------------------------------------------

def peak_memory_mb(code):
    """Peak resident memory in MB of a fresh Python running ``code``.

    Read from VmHWM in /proc, which starts afresh with the new program
    (ru_maxrss would include this parent process's size at fork).
    """
    script = (f"import sys; sys.path.insert(0, {str(REPO)!r}); sys.path.insert(0, {str(REPO / 'benchmarks')!r})\n"
              f"{code}\n"
              "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def make_many_covers(folder, n):
    sys.path.insert(0, str(REPO / "data"))
    import make_covers

    make_covers.make_covers(folder, n=n, seed=7)


# --------------------------------------------------------------------------
# Colour-1024 (Barthel et al. 2023)
# --------------------------------------------------------------------------

def colour_1024(seeds):
    """DPQ16 and seconds (train + place) per seed, and DPQ16 of the input order."""
    # The paper's np.random.seed(3); np.random.uniform(...), without touching global state.
    colours = np.random.RandomState(3).uniform(0, 255, (32, 32, 3)).astype(int).reshape(-1, 3).astype(float)
    # The default preset with 50 iterations per neuron (the pipeline trains 20, at most
    # 20,480; the command-line row of the quality section measures that, with the swaps).
    settings = helpers.som_settings("default", iterations=50 * 32 * 32)
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        trained = helpers.train_som(colours, 32, 32, random_seed=seed, **settings)
        placement = helpers.place_covers(trained.som.get_weights(), colours)
        runs.append((helpers.dpq(colours, placement.positions), time.perf_counter() - start))
    original = np.column_stack(np.unravel_index(np.arange(1024), (32, 32)))
    return runs, helpers.dpq(colours, original)


def random_dpq(data, rows, cols, draws=20, seed=42):
    """Mean DPQ16 of random arrangements, drawn exactly as notebook 06 draws them (one source)."""
    rng = np.random.default_rng(seed)
    return float(np.mean([helpers.dpq(data, np.column_stack(np.divmod(rng.permutation(rows * cols)[:len(data)], cols)))
                          for _ in range(draws)]))


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import minisom  # noqa: F401
    from importlib.metadata import version
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, Python {platform.python_version()}, "
            f"numpy {np.__version__}, MiniSom {version('minisom')}, scikit-learn {version('scikit-learn')}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--covers", default=str(helpers.BUNDLED_COVERS), help="folder of 185x278 covers")
    parser.add_argument("--post-iterations", type=int, default=50,
                        help="training steps of the post's map actually timed (default 50)")
    parser.add_argument("--full-original", action="store_true", help="train the post's map for all 2500 steps")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--many", type=int, default=1000, help="covers for the memory test (default 1000)")
    parser.add_argument("--write", action="store_true", help="write the report into benchmarks/README.md")
    parser.add_argument("--scale", action="store_true",
                        help="only the scaling table and the targets, 100 to 10,000 covers "
                             "(benchmarks/scaling.py; makes its test folders if missing)")
    parser.add_argument("--quality", action="store_true",
                        help="only DPQ16 with and without local swaps on the posters and varied collections")
    args = parser.parse_args(argv)
    if args.scale:
        return run_scaling(args)
    if args.quality:
        return run_quality(args)
    with tempfile.TemporaryDirectory(prefix="som-bench-") as work:
        return run(args, Path(work))


def run(args, work):
    """Run every measurement, print the report and, with --write, save it."""
    # Imports count as start-up, not as pipeline time: load them first.
    import matplotlib.pyplot  # noqa: F401
    import minisom  # noqa: F401
    import scipy.optimize  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    from mpl_toolkits.axes_grid1 import ImageGrid  # noqa: F401
    from PIL import Image  # noqa: F401
    lines = []
    say = lines.append
    post_steps = POST_ITERATIONS if args.full_original else args.post_iterations

    print("timing the post's pipeline ...", file=sys.stderr)
    post, post_positions = run_post(args.covers, post_steps, args.seed, work / "post.png")
    print("timing the tutorial's pipeline ...", file=sys.stderr)
    ours, covers, features, placement = run_ours(args.covers, args.seed, work / "ours.png")
    rows, cols = helpers.grid_shape_for(len(covers.names))
    values = features.values
    genres = helpers.read_genres(covers.names)

    # Quality of the arrangements. Distances on the reduced features equal
    # those on the standardised pixels, so DPQ is the same either way.
    original_preset = helpers.arrange_covers(covers, rows, cols, preset="original", placement="greedy",
                                             seed=args.seed, features=features)
    scores = {
        "post's pipeline" + (" (2500 steps on raw pixels)" if args.full_original else
                             f" ({post_steps} steps only)"): helpers.dpq(values, post_positions),
        "post's settings (preset 'original', greedy fill)": original_preset.quality["dpq16"],
        "post's settings + optimal assignment": helpers.dpq(values, helpers.place_covers(
            original_preset.trained.som.get_weights(), values).positions),
        "tutorial default (preset 'default', assignment; notebooks and explorer)":
            helpers.dpq(values, placement.positions),
        "tutorial default + local swaps (the command line)": helpers.arrange_covers(
            covers, rows, cols, seed=args.seed, features=features, polish=True).quality["dpq16"],
        "random arrangement (mean of 20, as notebook 06 draws them)": random_dpq(values, rows, cols),
    }
    seeds = range(5)
    default_over_seeds = [helpers.arrange_covers(covers, rows, cols, seed=s, features=features).quality["dpq16"]
                          for s in seeds]
    original_over_seeds = [helpers.arrange_covers(covers, rows, cols, seed=s, preset="original",
                                                  placement="greedy", features=features).quality["dpq16"]
                           for s in seeds]

    print("Colour-1024 ...", file=sys.stderr)
    colour_runs, colour_input_order = colour_1024([args.seed, 0, 1, 2, 3])
    colour_score, colour_seconds = colour_runs[0]
    colour_scores = [score for score, _ in colour_runs]

    print("explorer update ...", file=sys.stderr)
    update_seconds = explorer_update_seconds(build_explorer(args.covers, background=True))[1]

    print("command line ...", file=sys.stderr)
    import scaling
    cli_seconds = scaling.run_cli(REPO, args.covers, work / "cli.png")[0]  # median of 3 runs

    print("peak memory ...", file=sys.stderr)
    post_mem = peak_memory_mb(
        f"import run as b; p, _ = b.post_load({args.covers!r}); d = b.post_scale(p); "
        f"s = b.post_train(d, 5, 1); b.post_render(p.reshape(-1, 278, 185, 3), b.post_place(s, d), {str(work / 'm.png')!r})")
    ours_mem = peak_memory_mb(f"import run as b; b.run_ours({args.covers!r}, 1, {str(work / 'm2.png')!r})")
    many_dir = work / "many"
    make_many_covers(many_dir, args.many)
    many_mem = peak_memory_mb(f"import run as b; t, *_ = b.run_ours({str(many_dir)!r}, 1, {str(work / 'm3.png')!r}); "
                              "print(t.total)")

    # ---------------------------------------------------------------- report
    say(f"Machine: {machine()}.")
    say(f"Covers: {len(covers.names)} from `{os.path.relpath(args.covers, REPO)}`, "
        f"{covers.images.shape[2]}x{covers.images.shape[1]} px ({covers.images[0].size:,} features each); "
        f"grid {rows}x{cols}; seed {args.seed}.")
    say("")
    say("### Wall time per stage (seconds)")
    say("")
    say("| stage | post's pipeline | tutorial default |")
    say("|---|---:|---:|")
    post_rows = list(post.stages.items())
    our_rows = list(ours.stages.items())
    for i in range(max(len(post_rows), len(our_rows))):
        left = f"{post_rows[i][0]}: {post_rows[i][1]:.2f}" if i < len(post_rows) else ""
        right = f"{our_rows[i][0]}: {our_rows[i][1]:.3f}" if i < len(our_rows) else ""
        say(f"| {i + 1} | {left} | {right} |")
    ratio = post.total / ours.total
    say(f"| **total** | **{post.total:.1f}** | **{ours.total:.2f}** |")
    say("")
    label = "measured" if args.full_original else f"training timed on {post_steps} of 2500 steps and extrapolated"
    say(f"Speed-up, folder to grid PNG: **{ratio:.0f}x** ({label}; interpreter start-up and imports excluded).")
    say(f"The command line `python helpers.py COVERS --out grid.png`, with interpreter start-up and imports: "
        f"{cli_seconds:.2f} s.")
    say("")
    say("### Arrangement quality (DPQ16, Barthel et al. 2023; 1 is perfect)")
    say("")
    say("| arrangement | DPQ16 |")
    say("|---|---:|")
    for name, value in scores.items():
        say(f"| {name} | {value:.3f} |")
    say("")
    say(f"Over seeds {list(seeds)}: default {min(default_over_seeds):.3f}-{max(default_over_seeds):.3f} "
        f"(mean {np.mean(default_over_seeds):.3f}); post's settings with greedy fill "
        f"{min(original_over_seeds):.3f}-{max(original_over_seeds):.3f} (mean {np.mean(original_over_seeds):.3f}).")
    if genres is not None:
        share, expected = helpers.same_genre_share(genres, placement.positions)
        share_post, _ = helpers.same_genre_share(genres, original_preset.placement.positions)
        say(f"Side-by-side covers of the same genre: default {share:.1%}, post's settings {share_post:.1%}, "
            f"random {expected:.1%}.")
    say("")
    say("### Colour-1024 (1024 random RGB colours on a 32x32 grid)")
    say("")
    say("| method | DPQ16 | time |")
    say("|---|---:|---:|")
    say(f"| **tutorial (default preset, 51,200 iterations, assignment), seed {args.seed}, measured here** "
        f"| **{colour_score:.3f}** | {colour_seconds:.1f} s |")
    say(f"| the same, seeds {args.seed}, 0-3: mean (min-max) | {np.mean(colour_scores):.3f} "
        f"({min(colour_scores):.3f}-{max(colour_scores):.3f}) | {max(t for _, t in colour_runs):.1f} s at most |")
    say("| SOM (published, Barthel et al. 2023) | 0.918 | |")
    say("| FLAS (published) | 0.945 | |")
    say("| LAS (published) | 0.954 | |")
    say("| GradSort (published) | 0.954 | |")
    say(f"| unsorted input order, measured here | {colour_input_order:.3f} | |")
    say("")
    say("### Interactive explorer and memory")
    say("")
    say(f"- One explorer update at default settings (re-train, place, draw mosaic and U-matrix): "
        f"median {np.median(update_seconds):.2f} s, max {max(update_seconds):.2f} s over {len(update_seconds)} updates.")
    say(f"- Peak memory (max RSS, fresh process, imports included), {len(covers.names)} covers: "
        f"post's pipeline {post_mem:.0f} MB, tutorial {ours_mem:.0f} MB.")
    say(f"- Peak memory of the tutorial's pipeline on {args.many} generated covers of 185x278: {many_mem:.0f} MB.")

    report = "\n".join(lines)
    print(report)
    if args.write:
        readme = REPO / "benchmarks" / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = "<!-- results -->", "<!-- /results -->"
        if start not in text or end not in text:
            raise SystemExit(f"{readme} lacks the {start} ... {end} markers to write between")
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        readme.write_text(f"{head}{start}\n{report}\n{end}{tail}", encoding="utf-8")
    return 0


def write_section(text, start, end):
    """Replace what lies between the markers ``start`` and ``end`` in benchmarks/README.md."""
    readme = REPO / "benchmarks" / "README.md"
    content = readme.read_text(encoding="utf-8")
    if start not in content or end not in content:
        raise SystemExit(f"{readme} lacks the {start} ... {end} markers to write between")
    head, rest = content.split(start, 1)
    readme.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def run_scaling(args):
    """The scaling table (benchmarks/scaling.py), with the explorer at 100 and 300 covers."""
    import scaling

    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    summary = {}
    body = scaling.scaling_report(log=log, summary=summary)
    explorer = {}
    body += ["", "### The explorer at 100 and 1,000 covers", ""]
    for n, folder in scaling.folders():
        if n not in (100, 1000):
            continue
        log(f"explorer: {n} covers ...")
        load = os.getloadavg()[0]
        first, online = explorer_update_seconds(build_explorer(str(folder), background=True), repeats=9)
        explorer[n] = np.median(first), np.median(online)
        body.append(f"- {n} covers, sigma moved: the batch-SOM preview after median {np.median(first):.3f} s "
                    f"(max {max(first):.3f} s), the online map after median {np.median(online):.2f} s "
                    f"(max {max(online):.2f} s), over {len(first)} updates (load {load:.1f}).")
    colour = scaling.cached("colour1024_files", scaling.colour_files)
    quality = scaling.cached("varied_quality_seeds_0_1_2", scaling.varied_quality)["table"]
    swapped = {name: np.mean(runs["assignment + local swaps"]) for name, runs in quality.items()}
    load = os.getloadavg()
    checks = [  # issue 22's targets
        ("100 covers, command line", "<= 0.8 s", f"{summary[100][0]:.2f} s", summary[100][0] <= 0.8),
        ("1,000 covers, command line", "<= 4 s, <= 600 MB",
         f"{summary[1000][0]:.1f} s, {summary[1000][1]:.0f} MB",
         summary[1000][0] <= 4 and summary[1000][1] <= 600),
        ("3,000 covers, command line", "<= 12 s, <= 1.2 GB",
         f"{summary[3000][0]:.1f} s, {summary[3000][1] / 1024:.2f} GB",
         summary[3000][0] <= 12 and summary[3000][1] <= 1.2 * 1024),
        ("10,000 covers, command line, every cover placed", "<= 60 s, <= 3 GB",
         f"{summary[10000][0]:.1f} s, {summary[10000][1] / 1024:.2f} GB, {summary[10000][2]}",
         summary[10000][0] <= 60 and summary[10000][1] <= 3 * 1024 and summary[10000][3]),
        ("Colour-1024 as files, command line", "<= 5 s, DPQ16 >= 0.955",
         f"{colour['seconds']:.1f} s, DPQ16 {colour['scores']['42']:.3f}",
         colour["seconds"] <= 5 and colour["scores"]["42"] >= 0.955),
        ("explorer update, 100 covers (first new picture: the preview)", "<= 0.1 s",
         f"{explorer[100][0]:.3f} s (online map {explorer[100][1]:.2f} s)", explorer[100][0] <= 0.1),
        ("explorer update, 1,000 covers (first new picture: the preview)", "<= 0.4 s",
         f"{explorer[1000][0]:.2f} s (online map {explorer[1000][1]:.2f} s)", explorer[1000][0] <= 0.4),
        ("DPQ16 with the command line's swaps, mean of seeds 0-2", ">= 0.90 on the 2019 post's covers",
         f"the post's covers are not on this machine (no internet); held-out varied_check "
         f"{swapped['varied_check']:.3f}, bundled posters {swapped['bundled posters (data/covers)']:.3f}", None),
    ]
    lines = [f"Machine: {machine()}. Load average at the end (1, 5, 15 minutes): "
             f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}; each row's own load is in the scaling table.",
             "", "### Targets (issue 22), measured in this run", "",
             "| what | target | measured | met |", "|---|---|---|---|"]
    lines += [f"| {what} | {target} | {value} | {'not measured' if ok is None else 'yes' if ok else '**no**'} |"
              for what, target, value, ok in checks]
    lines += ["", "Command-line times are the median of three runs (one at 10,000 covers), with "
              "interpreter start-up and imports; explorer times the median of nine updates.", ""]
    report = "\n".join(lines + body)
    print(report)
    if args.write:
        write_section(report, "<!-- scaling -->", "<!-- /scaling -->")
    return 0


def run_quality(args):
    """DPQ16 without and with the local swaps (benchmarks/scaling.py), seeds 0-2."""
    import scaling

    report = "\n".join(scaling.varied_quality_lines(
        scaling.cached("varied_quality_seeds_0_1_2", scaling.varied_quality)) + [""]
        + scaling.colour_lines(scaling.cached("colour1024_files", scaling.colour_files)))
    print(report)
    if args.write:
        write_section(report, "<!-- quality -->", "<!-- /quality -->")
    return 0


def explorer_update_seconds(explorer, repeats=5):
    """Time explorer updates by moving the sigma slider back and forth.

    The explorer is built with ``background=True``, as in a kernel: a moved
    slider first shows a batch-SOM preview, then the online map the notebooks
    teach. Returns two lists, one entry per update: the seconds to the first
    new picture (the preview) and to the online map (its quality figures).
    """
    first, online = [], []
    slider = explorer.sigma
    base = slider.value
    for i in range(repeats):
        slider.value = base + (slider.step if i % 2 == 0 else 0)
        explorer.wait()
        if explorer.stale or explorer.previewing or explorer.arrangement.settings["sigma"] != slider.value:
            raise SystemExit(f"explorer update refused: {explorer.message}")
        online.append(explorer.seconds)
        first.append(explorer.preview_seconds if explorer.preview_seconds is not None else explorer.seconds)
    return first, online

if __name__ == "__main__":
    sys.exit(main())
