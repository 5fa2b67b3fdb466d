"""The served document ranker: ``resources/doc-ranker`` → ``models/doc-ranker`` (ONNX) with
parity against PyTorch, refusals of damaged resources, and the tensor-slice table."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from trainer.doc_ranker import RESOURCE, fit_platt
from trainer.export_models import TOLERANCE, ExportError


def test_exported_model_matches_its_resource(models_dir):
    meta = json.loads((models_dir / "doc-ranker" / "metadata.json").read_text())
    assert meta["parity"]["max_abs_diff"] <= TOLERANCE
    done, total = meta["parity"]["top10_equal"].split("/")
    assert done == total and int(total) >= 20
    assert set(meta["files"]) == {"words.json", "tags.json"}
    resource = json.loads((RESOURCE / "config.json").read_text())
    assert meta["ranker"]["model"] == resource["model"]
    assert meta["ranker"]["tags"] == len(resource["tags"]) > 5000
    assert [i["name"] for i in meta["inputs"]] == ["word_ids", "word_weights"]


@pytest.mark.parametrize("damage", ["missing", "wrong shape"])
def test_damaged_resources_are_refused_and_nothing_is_written(tmp_path, damage):
    from trainer.export_documents import export_documents

    res = tmp_path / "res"
    shutil.copytree(RESOURCE, res)
    if damage == "missing":
        (res / "weights.npz").unlink()
    else:
        with np.load(res / "weights.npz") as z:
            arrays = {k: z[k] for k in z.files}
        arrays["V.weight"] = arrays["V.weight"][:10]
        np.savez(res / "weights.npz", **arrays)
    out = tmp_path / "models"
    with pytest.raises(ExportError, match="missing|do not fit"):
        export_documents(out, force=True, log=lambda _m: None, resource=res)
    assert not (out / "doc-ranker" / "metadata.json").exists()


def test_platt_fit_recovers_a_known_map():
    rng = np.random.default_rng(0)
    s = rng.normal(size=20000)
    y = (rng.random(s.size) < 1 / (1 + np.exp(-(2.0 * s - 1.0)))).astype(float)
    a, b = fit_platt(s, y)
    assert a == pytest.approx(2.0, abs=0.1) and b == pytest.approx(-1.0, abs=0.1)


def test_tensor_slices_table(tmp_path):
    from trainer import csrw_slices

    meta = json.loads((RESOURCE / "config.json").read_text())
    if meta["model"] != "csrw_t":
        pytest.skip(f"the served ranker is {meta['model']}, not csrw_t")
    out = csrw_slices.slices(RESOURCE, ["neural", "notaword-xyz"], top=5)
    lists = out["words"]["neural"]["slices"]
    assert len(lists) == meta["config"]["k"] and all(len(x) == 5 for x in lists)
    assert out["words"]["notaword-xyz"] is None
    assert 0.0 <= out["words"]["neural"]["mean_jaccard"] <= 1.0
    assert "| neural | 0 |" in csrw_slices.report(out)
