"""``python -m benchmarks``: measure the sections asked for and write ``benchmarks/results.json``.

See the package's docstring (``python -m benchmarks --help``) for what each section measures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from mnist_utils.files import write_text

import benchmarks
from benchmarks.ablation import ABLATION_SEEDS, record_ablation
from benchmarks.book_build import book_build
from benchmarks.cnn_batchnorm import cnn_batchnorm_benchmark
from benchmarks.cnn_seeds import cnn_frontier_benchmark, cnn_seeds_benchmark
from benchmarks.common import ROOT, SCHEMA_VERSION, machine
from benchmarks.ensemble import ensemble_benchmark
from benchmarks.onednn import onednn_benchmark, onednn_probe
from benchmarks.recipes import measure_recipes
from benchmarks.other_writers import record_other_writers
from benchmarks.regularisation import REGULARISATION_SEEDS, record_regularisation
from benchmarks.validate import validate

#: Every section, in the order a full run measures them.
SECTIONS: tuple[str, ...] = ("recipes", "cnn_seeds", "cnn_frontier", "ensemble", "onednn", "ablation", "regularisation",
                              "cnn_batchnorm", "other_writers", "book_build")

FLOPS_FORMULA = ("MLP: 6 x parameters per training sample; CNN: 6 x multiply-adds of the Conv2D and Dense layers "
                 "per training sample")


def sections(text: str) -> list[str]:
    """``"ensemble,ablation"`` -> ``["ensemble", "ablation"]``, in :data:`SECTIONS`' order; ``"all"`` is every one."""
    names = list(SECTIONS) if text.strip() == "all" else [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or '(none given)'}; choose from {', '.join(SECTIONS)} or 'all'")
    return [name for name in SECTIONS if name in names]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=benchmarks.__doc__.split("\n\n")[0],
                                     epilog=f"sections: {', '.join(SECTIONS)}")
    parser.add_argument("--sections", type=sections, default=list(SECTIONS),
                        help="comma-separated sections to measure (default: all); the others keep their values")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each timed measurement (median)")
    parser.add_argument("--train-repeats", type=int, default=3, help="runs of each training recipe (median)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only proves the benchmark works")
    parser.add_argument("--ablation-seeds", type=int, nargs="+", default=list(ABLATION_SEEDS),
                        help="seeds of the ablation (the first is the book's); each adds a full set of runs")
    parser.add_argument("--onednn-probe", action="store_true", help=argparse.SUPPRESS)  # a child of the onednn section
    args = parser.parse_args(argv)
    if args.onednn_probe:
        print(json.dumps(onednn_probe(args.repeats, args.smoke)))
        return {}
    chosen = [name for name in args.sections if not (args.smoke and name == "book_build")]
    every = args.sections == list(SECTIONS)  # a full run (a smoke run leaves out the book build)
    # Sections this run does not measure keep their values (each records its own run); a smoke
    # run starts from nothing.
    results: dict = json.loads(args.output.read_text()) if args.output.exists() and not args.smoke else {}
    results["schema"] = SCHEMA_VERSION
    if "recipes" in chosen or args.smoke:
        results.update({"smoke": args.smoke, "machine": machine(), "date": time.strftime("%Y-%m-%d"),
                        "repeats": args.repeats, "train_repeats": 1 if args.smoke else args.train_repeats,
                        "flops_formula": FLOPS_FORMULA})

    def save() -> None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.output, json.dumps(results, indent=1))

    def alone(name: str) -> dict:
        return {} if every else {"separate_run": f"python -m benchmarks --sections {name}"}

    for name in chosen:
        print(f"section {name} ...", flush=True)
        if name == "recipes":
            measure_recipes(results, repeats=args.repeats, train_repeats=results["train_repeats"], smoke=args.smoke,
                            save=save)
        elif name == "ablation":
            seeds = args.ablation_seeds[:1] if args.smoke else args.ablation_seeds
            record_ablation(results, seeds, args.smoke, save, **alone(name))
        elif name == "regularisation":
            record_regularisation(results, REGULARISATION_SEEDS, args.smoke, save, **alone(name))
        elif name == "other_writers":
            record_other_writers(results, args.smoke, save, **alone(name))
        elif name == "book_build":
            try:
                results["book_build"] = dict(book_build(max(1, min(args.repeats, 3))),
                                             date=time.strftime("%Y-%m-%d"), **alone(name))
            except RuntimeError as error:
                results["book_build"] = {"error": str(error)}
        else:
            measure = {
                "cnn_seeds": lambda: cnn_seeds_benchmark(smoke=args.smoke),
                "cnn_frontier": lambda: cnn_frontier_benchmark(smoke=args.smoke),
                "ensemble": lambda: ensemble_benchmark(smoke=args.smoke, repeats=args.repeats),
                "onednn": lambda: onednn_benchmark(args.repeats, args.smoke),
                # Its runs without batch normalisation are the cnn_seeds section's (measured first in a full run).
                "cnn_batchnorm": lambda: cnn_batchnorm_benchmark(smoke=args.smoke, reference=results.get("cnn_seeds")),
            }[name]
            results[name] = dict(measure(), **alone(name))
        save()
    problems = validate(results)
    if problems:
        print(f"{args.output} was written, but it is not well-formed:\n- " + "\n- ".join(problems), file=sys.stderr)
        raise SystemExit(1)
    print(f"wrote {args.output} (sections: {', '.join(chosen)}); it is well-formed")
    return results


if __name__ == "__main__":
    main()
