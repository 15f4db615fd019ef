"""The scaling benchmark: 100 to 10,000 covers, today's pipeline against the one before.

    python benchmarks/make_folders.py --big  # the test folders, once (about 15 minutes;
                                             # run.py --scale makes them itself if missing)
    python benchmarks/run.py --scale         # the table below (about 10 minutes)
    python benchmarks/run.py --scale --write # ... and write it into benchmarks/README.md

For every folder, in a fresh process each:

* the command line ``python helpers.py FOLDER --out grid.png``, wall time with
  interpreter start-up and imports, and its peak memory (VmHWM);
* the same pipeline stage by stage (``helpers.arrange_covers`` with its inner
  steps timed): imports, load, features, train, place, polish (local swaps),
  quality (DPQ16 and the others), mosaic and PNG.

The previous pipeline is the git version 65ede8c (helpers.py and tutorial_kit/
as they were before this work), extracted into benchmarks/work/baseline_65ede8c.
Then, at the same seeds, the map trained on all N-1 principal components
against the map trained on the 50 the pipeline keeps, both judged by DPQ16 on
the full distances.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
BASELINE_COMMIT = "65ede8c"
BASELINE = WORK / f"baseline_{BASELINE_COMMIT}"


def baseline_repo():
    """helpers.py, tutorial_kit/ and data/covers.csv as they were at 65ede8c."""
    if not (BASELINE / "helpers.py").exists():
        BASELINE.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE_COMMIT, "helpers.py",
                                  "tutorial_kit", "data/covers.csv"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(BASELINE)], input=archive, check=True)
    return BASELINE


def load_average():
    return os.getloadavg()[0]


# --------------------------------------------------------------------------
# One folder, one fresh process
# --------------------------------------------------------------------------

def child(repo, folder, out):
    """Run the pipeline in this (fresh) process; print a JSON line of stage times."""
    stages = {}
    start = time.perf_counter()
    sys.path.insert(0, str(repo))
    import helpers
    import minisom  # noqa: F401
    import PIL.Image  # noqa: F401
    import scipy.optimize  # noqa: F401
    import scipy.spatial.distance  # noqa: F401
    if "sklearn" in Path(helpers.__file__).read_text(encoding="utf-8"):
        import sklearn.preprocessing  # noqa: F401  (the baseline's pipeline needs it)
    stages["imports"] = time.perf_counter() - start

    def timed(owner, name, stage):
        function = getattr(owner, name, None)
        if function is None:
            return

        def wrapper(*args, **kwargs):
            begin = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                stages[stage] = stages.get(stage, 0.0) + time.perf_counter() - begin
        setattr(owner, name, wrapper)

    for name in ("train_som", "_train_som"):  # (older helpers had private twins; timed skips
        timed(helpers, name, "train")          # a name that is not there)
    for name in ("place_covers", "_place_covers"):
        timed(helpers, name, "place")
    for name in ("quality_report", "_quality_report"):
        timed(helpers, name, "quality")
    if hasattr(helpers, "fast"):
        timed(helpers.fast, "swap_pass", "polish")
    begin = time.perf_counter()
    covers = helpers.load_covers(folder)
    stages["load"] = time.perf_counter() - begin
    begin = time.perf_counter()
    features = helpers.make_features(covers.images)
    stages["features"] = time.perf_counter() - begin
    import inspect
    options = {name: value for name, value in (("polish", True), ("curve_points", 1))
               if name in inspect.signature(helpers.arrange_covers).parameters}
    one_blas_thread = getattr(getattr(helpers, "fast", None), "one_blas_thread", contextlib.nullcontext)
    with one_blas_thread():  # as the command line
        result = helpers.arrange_covers(covers, features=features, seed=42, **options)
    if hasattr(result, "mosaic_bands"):  # today: the grid pasted a row at a time as it is written
        from tutorial_kit import cli, files
        begin = time.perf_counter()
        files.write_atomically(out, cli.grid_png(result, 0))
        stages["PNG"] = time.perf_counter() - begin
    else:
        begin = time.perf_counter()
        mosaic = result.mosaic()
        stages["mosaic"] = time.perf_counter() - begin
        begin = time.perf_counter()
        helpers.save_png(mosaic, out)
        stages["PNG"] = time.perf_counter() - begin
    stages["total"] = time.perf_counter() - start
    peak = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
    print(json.dumps({"stages": stages, "peak_mb": peak / 1024, "n": len(covers.names),
                      "components": int(features.values.shape[1]),
                      "variance_kept": float(getattr(features, "variance_kept", 1.0)),
                      "iterations": int(result.settings["iterations"]),
                      "dpq16": result.quality["dpq16"], "positions": result.placement.positions.tolist()}))


def run_child(repo, folder, out):
    script = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import scaling; "
              f"scaling.child({str(repo)!r}, {str(folder)!r}, {str(out)!r})")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=str(repo))
    if done.returncode:
        raise SystemExit(f"stage run failed on {folder}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_cli(repo, folder, out, repeats=3):
    """Median wall seconds and peak MB of ``python helpers.py FOLDER --out OUT`` (GNU time)
    over ``repeats`` runs (this machine's timings vary by a tenth from run to run)."""
    runs = []
    for _ in range(repeats):
        begin = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, str(Path(repo) / "helpers.py"),
                               str(folder), "--out", str(out)], capture_output=True, text=True, cwd=str(repo))
        seconds = time.perf_counter() - begin
        if done.returncode:
            raise SystemExit(f"command line failed on {folder}:\n{done.stderr[-2000:]}")
        runs.append((seconds, int(done.stderr.strip().splitlines()[-1]) / 1024, done.stdout.strip()))
    runs.sort()
    return runs[len(runs) // 2]


# --------------------------------------------------------------------------
# All components against the pipeline's
# --------------------------------------------------------------------------

def compare_components(folder, seeds):
    """DPQ16 on the full distances: map trained on all N-1 components vs the pipeline's."""
    sys.path.insert(0, str(REPO))
    import helpers

    covers = helpers.load_covers(folder)
    reduced = helpers.make_features(covers.images)
    saved, helpers.EXACT_UP_TO = helpers.EXACT_UP_TO, 10 ** 9
    try:
        full = helpers.make_features(covers.images)
    finally:
        helpers.EXACT_UP_TO = saved
    rows = []
    for seed in seeds:
        row = {"seed": seed}
        for name, features in (("all", full), ("reduced", reduced)):
            begin = time.perf_counter()
            result = helpers.arrange_covers(covers, features=features, seed=seed, polish=True)
            row[name + "_seconds"] = time.perf_counter() - begin
            row[name] = helpers.dpq(full.values, result.placement.positions)
        rows.append(row)
    return {"n": len(covers.names), "components": int(reduced.values.shape[1]),
            "all_components": int(full.values.shape[1]),
            "variance_kept": float(reduced.variance_kept), "rows": rows,
            "iterations": int(result.settings["iterations"])}


def compare_assignment(sizes=(3000, 6000), seed=42):
    """The optimal assignment against the windowed one, on maps of 3,000 and 6,000 covers.

    The 3,000 are ``posters_3000``; the 6,000 are those plus a copy of each with noise
    added to its features (so no 6,000 files need to be drawn). Each map is trained as the
    pipeline trains it; both solvers place the same covers on the same map.
    """
    sys.path.insert(0, str(REPO))
    import helpers
    from scipy.optimize import linear_sum_assignment
    from tutorial_kit import fast

    covers = helpers.load_covers(WORK / "posters_3000")
    base = helpers.make_features(covers.images).values
    del covers
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        data = base if n == len(base) else np.vstack([base, base + rng.normal(0, base.std() * 0.3, base.shape)])
        grid = helpers.grid_shape_for(n)
        trained = helpers.train_som(data, *grid, random_seed=seed, curve_points=1,
                                    **helpers.som_settings("default", grid=grid))
        cost = helpers.squared_distances(data, trained.som.get_weights().reshape(grid[0] * grid[1], -1))
        row = {"n": n, "grid": list(grid)}
        for name in ("optimal", "windowed"):
            begin = time.perf_counter()
            if name == "optimal":
                cell_of = linear_sum_assignment(cost)[1]
            else:
                cell_of = fast.windowed_assignment(cost, *grid)
            row[name + "_seconds"] = time.perf_counter() - begin
            row[name + "_cost"] = float(cost[np.arange(n), cell_of].sum())
            row[name + "_dpq16"] = helpers.dpq(data, np.column_stack(np.divmod(cell_of, grid[1])))
        rows.append(row)
    return {"rows": rows, "limit": fast.DENSE_ASSIGNMENT_UP_TO}


def assignment_lines(result):
    lines = ["| covers | grid | optimal (linear_sum_assignment): seconds | DPQ16 | windowed: seconds | DPQ16 "
             "| windowed total distance / optimal |", "|---:|---|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['n']:,} | {r['grid'][0]}x{r['grid'][1]} | {r['optimal_seconds']:.1f} | "
                     f"{r['optimal_dpq16']:.3f} | {r['windowed_seconds']:.1f} | {r['windowed_dpq16']:.3f} | "
                     f"{r['windowed_cost'] / r['optimal_cost']:.3f} |")
    return lines


def cached(name, compute):
    """Results of slow comparisons, kept in benchmarks/work/ (delete to recompute)."""
    path = WORK / f"{name}.json"
    while not path.exists() and path.with_suffix(".running").exists():
        time.sleep(10)  # another process is computing it (see the README's notes)
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    value["load_average"] = load_average()
    path.write_text(json.dumps(value))
    return value


def varied_quality(seeds=(0, 1, 2)):
    """DPQ16 without and with the local swaps, on the posters and the varied collections."""
    sys.path.insert(0, str(REPO))
    import helpers

    table = {}
    for name, folder in (("bundled posters (data/covers)", REPO / "data" / "covers"),
                         ("varied_tune", WORK / "varied_tune"), ("varied_check", WORK / "varied_check")):
        covers = helpers.load_covers(folder)
        features = helpers.make_features(covers.images)
        table[name] = {
            label: [helpers.arrange_covers(covers, features=features, seed=s, polish=polish).quality["dpq16"]
                    for s in seeds]
            for label, polish in (("assignment", False), ("assignment + local swaps", True))}
    return {"seeds": list(seeds), "table": table}


def colour_files(seeds=(42, 0, 1, 2)):
    """Colour-1024 given as 1,024 PNG tiles: the command line's time, DPQ16 over seeds."""
    sys.path.insert(0, str(REPO))
    import helpers
    import make_folders

    folder = make_folders.make_colour1024(WORK)
    load = load_average()
    seconds, peak, line = run_cli(REPO, folder, WORK / "colour.png")
    covers = helpers.load_covers(folder)
    features = helpers.make_features(covers.images)
    colours = make_folders.colour1024_values()
    scores = {str(s): helpers.dpq(colours, helpers.arrange_covers(covers, features=features, seed=s, polish=True)
                                  .placement.positions) for s in seeds}  # as the command line timed above
    return {"seconds": seconds, "peak_mb": peak, "line": line, "load": load, "scores": scores,
            "components": int(features.values.shape[1]), "variance_kept": features.variance_kept}


def colour_lines(result):
    scores = result["scores"]
    others = [v for k, v in scores.items() if k != "42"]
    return [f"Colour-1024 as 1,024 PNG tiles of 8x8 px, `python helpers.py benchmarks/work/colour1024`: "
            f"{result['seconds']:.1f} s with interpreter start-up (load {result['load']:.1f}), peak "
            f"{result['peak_mb']:.0f} MB; {result['components']} components kept ({result['variance_kept']:.0%} of "
            f"the variance: its 192 pixel columns only repeat each tile's 3 colour values). DPQ16 on the colours: seed 42 "
            f"{scores['42']:.3f}; seeds 0-2 mean {np.mean(others):.3f} ({', '.join(f'{v:.3f}' for v in others)})."]


def varied_quality_lines(result):
    lines = ["| covers (100 each) | " + " | ".join(f"DPQ16 {label}, seeds {result['seeds']}: mean (each)"
                                                 for label in next(iter(result["table"].values())))
             + " |", "|---|---:|---:|"]
    for name, row in result["table"].items():
        cells = [f"{np.mean(v):.3f} ({', '.join(f'{x:.3f}' for x in v)})" for v in row.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

STAGES = ("imports", "load", "features", "train", "place", "polish", "quality", "mosaic", "PNG")


SIZES = (300, 1000, 3000, 10000)


def folders():
    """The test folders, made first if missing (benchmarks/make_folders.py; posters_10000
    takes about 10 minutes and 150 MB once, in benchmarks/work/)."""
    import make_folders

    missing = [n for n in SIZES if not make_folders._complete(WORK / f"posters_{n}", n)]
    if missing:
        make_folders.make_posters(WORK, make_folders.BIG_SIZES,
                                  log=lambda text: print(text, file=sys.stderr, flush=True))
    return [(100, REPO / "data" / "covers")] + [(n, WORK / f"posters_{n}") for n in SIZES]


def scaling_report(log=print, compare_seeds=(0, 1, 2), summary=None):
    """Run everything; return the Markdown lines (``summary``, a dict, gets the command
    line's seconds, peak MB, covers placed (words) and whether all were, by number of
    covers, today's pipeline)."""
    baseline = baseline_repo()
    out = WORK / "scale.png"
    rows = []
    for n, folder in folders():
        for label, repo in (("today", REPO), (BASELINE_COMMIT, baseline)):
            if label != "today" and n > 300:
                continue
            repeats = 1 if n >= 10000 else 3  # (one run of 10,000 covers takes about a minute)
            log(f"scaling: {n} covers, {label} ...")
            load = load_average()
            cli_seconds, cli_mb, line = run_cli(repo, folder, out, repeats)
            staged = run_child(repo, folder, out)
            rows.append((n, label, load, cli_seconds, cli_mb, staged))
            if summary is not None and label == "today":
                placed = int(line.split()[0])  # "10000 covers on a 100x100 grid: ..."
                summary[n] = (cli_seconds, cli_mb, f"{placed:,} of {n:,} placed", placed == n)
    comparisons = []
    for n in (300, 1000):
        log(f"components: {n} covers, seeds {list(compare_seeds)} ...")
        comparisons.append(cached(f"components_{n}_seeds_{'_'.join(map(str, compare_seeds))}",
                                  lambda n=n: compare_components(WORK / f"posters_{n}", compare_seeds)))
    lines = []
    say = lines.append
    say("### Scaling: 100 to 10,000 covers (185x278 px), default settings, seed 42")
    say("")
    say("Command line = `python helpers.py FOLDER --out grid.png`, wall time with interpreter start-up, "
        "and its peak memory. Stages from a separate fresh run of the same pipeline (seconds). "
        f"`{BASELINE_COMMIT}` is the pipeline before this work. Load = the machine's 1-minute load "
        "average when the row started (2 cores: above 2 means other work was competing).")
    say("")
    say("| covers | pipeline | load | command line | peak MB | " + " | ".join(STAGES)
        + " | components (variance kept) | iterations | DPQ16 |")
    say("|---:|---|---:|---:|---:|" + "---:|" * len(STAGES) + "---|---:|---:|")
    for n, label, load, cli_seconds, cli_mb, s in rows:
        cells = " | ".join(f"{s['stages'].get(k, 0.0):.2f}" if k in s["stages"] else "-" for k in STAGES)
        say(f"| {n:,} | {label} | {load:.1f} | **{cli_seconds:.1f} s** | {cli_mb:.0f} | {cells} | "
            f"{s['components']} ({s['variance_kept']:.1%}) | {s['iterations']:,} | {s['dpq16']:.3f} |")
    say("")
    say("The stages run the command line's pipeline (today: with the local swaps, the polish column). "
        "DPQ16 here is measured on the features the pipeline trained on (for 300 covers and more, "
        "its 50 principal components); the next table measures on the full distances.")
    say("")
    say("### All principal components or the pipeline's 50, at the same seeds")
    say("")
    say("Both maps use the pipeline's settings (iterations scaled to the grid, assignment, local swaps); "
        "DPQ16 is measured on the full standardised-pixel distances.")
    say("")
    say("| covers | seed | all components: DPQ16 | seconds | 50 components: DPQ16 | seconds | variance kept |")
    say("|---:|---:|---:|---:|---:|---:|---:|")
    for c in comparisons:
        for r in c["rows"]:
            say(f"| {c['n']:,} | {r['seed']} | {r['all']:.3f} ({c['all_components']}) | {r['all_seconds']:.1f} | "
                f"{r['reduced']:.3f} | {r['reduced_seconds']:.1f} | {c['variance_kept']:.1%} |")
        mean_all = np.mean([r["all"] for r in c["rows"]])
        mean_reduced = np.mean([r["reduced"] for r in c["rows"]])
        say(f"| {c['n']:,} | **mean** | **{mean_all:.3f}** | | **{mean_reduced:.3f}** | | |")
    log("assignment: 3,000 and 6,000 covers ...")
    assignment = cached("assignment_3000_6000", compare_assignment)
    say("")
    say("### The assignment past a few thousand covers")
    say("")
    say("`linear_sum_assignment` costs N^3. Past "
        f"{assignment['limit']:,} covers the pipeline solves it exactly inside overlapping 32x32 windows "
        "of the grid instead, from a start that puts each cover on the free cell nearest its winner "
        "(`tutorial_kit/fast.py`). Both solvers on the same trained maps, seed 42:")
    say("")
    lines += assignment_lines(assignment)
    return lines


if __name__ == "__main__":
    print("\n".join(scaling_report(log=lambda text: print(text, file=sys.stderr, flush=True))))
