"""Command line (contract.md §2): ``run``, ``batch``, ``diff``, ``synth``.

Exit codes: 0 ran (whatever the verdict), 2 unusable input (the message names file, row,
column), 1 internal failure, 3 ``batch`` finished but at least one org failed. No traceback
reaches the user for bad input.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from .errors import AssessmentError
from .memory import keep_to_small_pages, reuse_freed_memory

SAFE_TO_SHARE = "Personal data is masked in every file of the output folder: it is safe to share."
HOLDS_PERSONAL_DATA = (
    "The output folder holds personal data (emails, names): do not share it as it is; "
    "rerun with --mask-pii to mask it before sharing."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assessment",
        description="Readiness assessment of the Salesforce - Account Engagement connector.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="assess one org export folder")
    run.add_argument("data_dir", type=Path, help="the org export folder")
    run.add_argument("--out", type=Path, required=True, help="output folder")
    run.add_argument(
        "--settings", type=Path, help="connector settings file (default: connector.yml)"
    )
    run.add_argument("--no-report", action="store_true", help="skip the notebook and HTML report")
    run.add_argument(
        "--mask-pii",
        action="store_true",
        help="mask personal data in every output file (safe to share)",
    )
    run.add_argument(
        "--no-plan", action="store_true", help="skip recommendations and plan.csv (assessment only)"
    )
    run.add_argument(
        "--baseline", type=Path, help="an earlier output folder of this org to compare with"
    )
    run.add_argument(
        "--force-baseline", action="store_true", help="compare even with another org's output"
    )

    batch = sub.add_parser("batch", help="assess every org folder below ORGS_DIR")
    batch.add_argument("orgs_dir", type=Path, help="folder whose subfolders are org export folders")
    batch.add_argument("--out", type=Path, required=True, help="output folder")
    batch.add_argument("--no-report", action="store_true", help="skip notebooks and HTML reports")
    batch.add_argument("--mask-pii", action="store_true", help="mask emails and names in reports")
    batch.add_argument(
        "--workers",
        type=int,
        default=None,
        help="orgs assessed at once, each in its own process (default: the machine's cores)",
    )
    batch.add_argument(
        "--scheduler",
        help="address of a Dask distributed scheduler (tcp://host:8786) to run the orgs on",
    )

    diff = sub.add_parser("diff", help="what changed between two assessments of one org")
    diff.add_argument("old_out", type=Path, help="the earlier output folder")
    diff.add_argument("new_out", type=Path, help="the later output folder")
    diff.add_argument("--out", type=Path, help="also write diff.json and moved.csv here")
    diff.add_argument(
        "--force-baseline", action="store_true", help="compare even two different orgs"
    )

    synth = sub.add_parser("synth", help="write a synthetic org export folder with ground truth")
    synth.add_argument("out_dir", type=Path, help="folder to create")
    synth.add_argument("--prospects", type=int, default=3000)
    synth.add_argument("--leads", type=int, default=2000)
    synth.add_argument("--contacts", type=int, default=1500)
    synth.add_argument("--seed", type=int, default=7)
    synth.add_argument("--clean", action="store_true", help="inject no problems")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from .pipeline import assess

        result = assess(
            args.data_dir,
            args.out,
            settings_file=args.settings,
            report=not args.no_report,
            mask_pii=args.mask_pii,
            plan=not args.no_plan,
            baseline=args.baseline,
            force_baseline=args.force_baseline,
        )
        print(f"{result.org}: {result.verdict} (score {result.score}) -> {args.out}")
        if "baseline" in result.readiness:
            from .baseline import describe

            print(describe(result.readiness["baseline"]))
        print(SAFE_TO_SHARE if args.mask_pii else HOLDS_PERSONAL_DATA)
        return 0
    if args.command == "diff":
        from .baseline import describe, diff

        comparison = diff(args.old_out, args.new_out, args.out, force=args.force_baseline)
        print(describe(comparison.baseline))
        return 0
    if args.command == "batch":
        from .batch import run_batch

        summary = run_batch(
            args.orgs_dir,
            args.out,
            report=not args.no_report,
            mask_pii=args.mask_pii,
            workers=args.workers,
            scheduler=args.scheduler,
        )
        print(summary.describe())
        return 3 if summary.failed else 0  # contract.md §2: batch finished, an org failed
    if args.command == "synth":
        from .synth import generate

        manifest = generate(
            args.out_dir,
            prospects=args.prospects,
            leads=args.leads,
            contacts=args.contacts,
            seed=args.seed,
            clean=args.clean,
        )
        print(f"wrote {args.out_dir} ({manifest['counts']})")
        return 0
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    keep_to_small_pages()  # before any large array; inherited by batch workers and report kernels
    reuse_freed_memory()  # this process's malloc only: batch workers ask again (batch._quiet)
    try:
        return _dispatch(args)
    except AssessmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # one line, whatever stage (#13.4)
        return 130
    except Exception as exc:  # internal failure: short message, traceback only with --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return 1
