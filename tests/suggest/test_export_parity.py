"""The exported default models agree with PyTorch on real photos and sentences.

ONNX (through the app's own runtime) vs PyTorch: max abs diff <= 1e-4 at several batch sizes
and sequence lengths; the numpy preprocessing picks the same top-1 class as an independent
torch preprocessing; the classes make sense on the cat and espresso photos.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tagassist.media.preprocess import image_to_array
from tagassist.paths import sample_library_dir
from tagassist.suggest.encoders import ImageEncoder, TextEncoder
from tagassist.suggest.runtime import sha256_file
from tests.suggest.conftest import needs_export

pytestmark = needs_export

TOL = 1e-4
CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


# Eight of the sample's photos, each a whole source image (colour and greyscale, photographs
# and textures), by name: the sample keeps these files whatever else it gains.
PHOTOS = ("2019-spring-berkeley/chelsea-the-cat.jpg", "2018-montreal/espresso.jpg",
          "nasa/eileen-collins.jpg", "nasa/launch.jpg", "nasa/hubble-deep-field.jpg",
          "street/cameraman.jpg", "2023-amsterdam/grass.jpg", "2023-amsterdam/brick-wall.jpg")


@pytest.fixture(scope="module")
def photos():
    found = [sample_library_dir() / name for name in PHOTOS]
    assert all(p.is_file() for p in found)
    return found


@pytest.fixture(scope="module")
def lite():
    from trainer.torch_reference import load_lite

    return load_lite(0)


@pytest.fixture(scope="module")
def minilm():
    from trainer.torch_reference import load_minilm

    return load_minilm()


@pytest.fixture(scope="module")
def image_encoder(models_dir):
    return ImageEncoder(models_dir / "image-lite0", providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def text_encoder(models_dir):
    return TextEncoder(models_dir / "text-minilm", providers=["CPUExecutionProvider"])


def _torch(module, *args, **kwargs):
    import torch

    with torch.no_grad():
        return [t.numpy() for t in module(*args, **kwargs)]


def test_export_is_idempotent(models_dir, capsys):
    from trainer.export.default_models import export_all

    results = export_all(models_dir)
    assert [(r.name, r.skipped) for r in results] == [
        ("image-lite0", True), ("text-minilm", True), ("doc-ranker", True), ("sog-photos", True)]
    assert capsys.readouterr().out.count("up to date") == 4


def test_metadata_describes_the_files(models_dir):
    from importlib.metadata import version

    for name in ("image-lite0", "text-minilm"):
        meta = json.loads((models_dir / name / "metadata.json").read_text())
        assert meta["sha256"] == sha256_file(models_dir / name / "model.onnx")
        assert isinstance(meta["opset"], int) and meta["opset"] >= 18
        assert meta["parity"]["max_abs_diff"] <= TOL
        assert all(version(d) == v for d, v in meta["source_packages"].items())
        assert all(isinstance(i["shape"][0], str) for i in meta["inputs"])  # dynamic batch
    image = json.loads((models_dir / "image-lite0" / "metadata.json").read_text())
    assert image["size_bytes"] < 20_000_000
    assert image["preprocessing"]["size"] == 224 and image["preprocessing"]["mean"] == [127] * 3
    classes = json.loads((models_dir / "image-lite0" / "classes.json").read_text())
    assert classes["281"]["wnid"] == "n02123045" and classes["281"]["name"] == "tabby"
    text = json.loads((models_dir / "text-minilm" / "metadata.json").read_text())
    assert [i["shape"] for i in text["inputs"]] == [["batch", "sequence"]] * 3


def test_metadata_carries_the_declared_contract(models_dir):
    """Each default folder stores the contract its export module declares (and keeps it)."""
    from trainer.export import documents, image, sog, text

    n_tags = len(json.loads((models_dir / "doc-ranker" / "tags.json").read_text()))
    declared = {"image-lite0": image.contract(224), "text-minilm": text.CONTRACT,
                "doc-ranker": documents.contract(n_tags), "sog-photos": sog.contract()}
    for name, contract in declared.items():
        meta = json.loads((models_dir / name / "metadata.json").read_text())
        assert meta["contract"] == contract.to_json(), name
        assert [i["name"] for i in meta["inputs"]] == contract.input_names
        assert meta["opset"] == contract.opset


def test_image_onnx_matches_torch_at_batch_8_3_1(image_encoder, lite, photos):
    import torch

    arrays = [image_to_array(p) for p in photos]
    ref_logits, ref_emb = _torch(lite, torch.from_numpy(np.stack(arrays)))
    for batch_size in (8, 3, 1):
        image_encoder.batch_size = batch_size
        logits, emb = image_encoder.encode(photos)
        assert logits.shape == (8, 1000) and emb.shape == (8, 1280)
        assert np.abs(logits - ref_logits).max() <= TOL
        assert np.abs(emb - ref_emb).max() <= TOL
    image_encoder.batch_size = 16


def test_numpy_preprocessing_top1_equals_torch_pipeline(image_encoder, lite, photos):
    import torch

    from trainer.torch_reference import torch_preprocess

    logits, _ = image_encoder.encode(photos)
    (ref_logits, _) = _torch(lite, torch.stack([torch_preprocess(p) for p in photos]))
    assert logits.argmax(1).tolist() == ref_logits.argmax(1).tolist()


def test_cat_and_espresso_photos_get_sensible_classes(image_encoder):
    root = sample_library_dir()
    logits, _ = image_encoder.encode([root / "2019-spring-berkeley" / "chelsea-the-cat.jpg",
                                      root / "2018-montreal" / "espresso.jpg"])
    cat_top5, coffee_top5 = (set(np.argsort(-row)[:5].tolist()) for row in logits)
    assert cat_top5 & CAT_CLASSES
    assert coffee_top5 & COFFEE_CLASSES
    names = [n for n, _p in image_encoder.top_classes(logits[1:], k=1)[0]]
    assert names == ["espresso"]


SENTENCES = [
    "A cat sleeping on the sofa.",
    "Espresso with a thick crema in a small white cup.",
    "The Space Shuttle lifting off from the launch pad.",
    "Canals and old brick houses in Amsterdam",
    "a photographer with a camera on a tripod",
    "hubble deep field",
    "Grind finer when the espresso tastes sour, coarser when it tastes bitter.",
    "A spring weekend in Amsterdam: canals, old brick houses and the first warm day. " * 9,
]


def test_text_tokenization_equals_transformers(text_encoder, minilm):
    from trainer.torch_reference import tokenize

    _model, hf_tokenizer = minilm
    ours = text_encoder.tokenize(SENTENCES)
    ref = tokenize(hf_tokenizer, SENTENCES)
    for key, value in ours.items():
        assert np.array_equal(value, ref[key].numpy()), key
    assert ours["input_ids"].shape == (8, 128)  # the long one is truncated at 128


def test_text_onnx_matches_torch(text_encoder, minilm):
    import torch

    model, _tok = minilm
    feeds = text_encoder.tokenize(SENTENCES)
    hidden, emb = _torch(model, **{k: torch.from_numpy(v) for k, v in feeds.items()})
    for batch_size in (8, 3, 1):
        text_encoder.batch_size = batch_size
        assert np.abs(text_encoder.encode(SENTENCES) - emb).max() <= TOL
    text_encoder.batch_size = 32
    out = text_encoder.model.run(feeds)
    valid = feeds["attention_mask"].astype(bool)
    assert np.abs(out["last_hidden_state"] - hidden)[valid].max() <= TOL
    assert np.allclose(np.linalg.norm(out["sentence_embedding"], axis=1), 1.0, atol=1e-5)


def test_text_sequence_length_and_batch_are_dynamic(text_encoder):
    lengths = set()
    for texts in (["hubble"], SENTENCES[:3], [SENTENCES[6]]):
        out = text_encoder.model.run(text_encoder.tokenize(texts))
        n, seq, width = out["last_hidden_state"].shape
        assert (n, width) == (len(texts), 384)
        assert out["sentence_embedding"].shape == (len(texts), 384)
        lengths.add(seq)
    assert len(lengths) == 3


def test_text_embeddings_rank_by_meaning(text_encoder):
    cat, kitten, rocket = text_encoder.encode(
        ["a cat asleep on the sofa", "a kitten napping on a couch", "a rocket launch at night"])
    assert float(cat @ kitten) > float(cat @ rocket) + 0.2


@pytest.mark.slow
def test_failed_parity_writes_nothing(tmp_path, monkeypatch):
    """A parity failure (a contract of tolerance 0 here) raises ExportError and leaves no files
    behind."""
    import dataclasses

    from trainer.export import image
    from trainer.export.core import ExportError

    declared = image.contract
    monkeypatch.setattr(image, "contract",
                        lambda size: dataclasses.replace(declared(size), tolerance=0.0))
    with pytest.raises(ExportError, match="disagree beyond"):
        image.export_image(tmp_path, lite=0, force=True, log=lambda _m: None)
    assert list(tmp_path.iterdir()) == []
