"""The served document ranker: ``resources/doc-ranker`` → ``models/doc-ranker`` (ONNX) with
parity against PyTorch, refusals of damaged resources, and the tensor-slice table."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from trainer.doc_ranker import RESOURCE, fit_platt
from trainer.export.contract import TOLERANCE
from trainer.export.core import ExportError


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
    from trainer.export.documents import export_documents

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
    """Table 2 from a CSRW-t resource (a small one fitted here on a topic corpus)."""
    from tests.trainer.test_text_rankers import FAST, topic_corpus
    from trainer import csrw_slices
    from trainer.doc_ranker import write_resource
    from trainer.models import create

    d = topic_corpus()
    m = create("csrw_t", **FAST).fit(d, seed=0)
    write_resource(m, d.tags, tmp_path / "res", {"a": 1.0, "b": 0.0}, {})
    out = csrw_slices.slices(tmp_path / "res", ["w00", "notaword"], top=3)
    lists = out["words"]["w00"]["slices"]
    assert len(lists) == 4 and all(len(x) == 3 for x in lists)
    assert out["words"]["notaword"] is None
    assert 0.0 <= out["words"]["w00"]["mean_jaccard"] <= 1.0
    assert "| w00 | 0 |" in csrw_slices.report(out)
    # the tag of w00's own topic is first in at least one slice
    assert any(x[0] == "topic0" for x in lists), lists
