"""A model folder whose metadata.json was edited after export is refused, naming the folder; a
model that cannot load is named, with why, in the note shown with the suggestions (issue 20).

The checksum of model.onnx alone let an edited ``preprocessing`` block (another mean, another
crop) change every suggestion silently.  The exporter now seals the metadata
(``contract_sha256``, :func:`tagassist.suggest.runtime.contract_checksum`) and the app checks
the seal on every load.  Everything here works on private copies of the exported models.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tagassist.library import Library
from tagassist.paths import sample_library_dir
from tagassist.suggest.documents import DocumentRanker
from tagassist.suggest.encoders import ImageEncoder, TextEncoder
from tagassist.suggest.featurize import IMAGE_MODEL, TEXT_MODEL, Models
from tagassist.suggest.generated_set import NO_IMAGE_WORDS
from tagassist.suggest.runtime import (
    CONTRACT_SHA256,
    ModelLoadError,
    OnnxModel,
    contract_checksum,
    sha256_file,
)
from tagassist.suggest.service import ColdStartSuggester, ensure_items
from tests.test_cli import as_json, cli

CAT = sample_library_dir() / "2019-spring-berkeley" / "chelsea-the-cat.jpg"


def _meta(folder: Path) -> dict:
    return json.loads((folder / "metadata.json").read_text(encoding="utf-8"))


def _write_meta(folder: Path, meta: dict, **dump) -> None:
    (folder / "metadata.json").write_text(json.dumps(meta, **dump), encoding="utf-8")


def _one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text
    return text


# -- the seal ----------------------------------------------------------------------------------

def test_every_default_model_is_sealed_and_its_seal_holds(models_dir):
    for name in ("image-lite0", "text-minilm", "doc-ranker", "sog-photos"):
        meta = _meta(models_dir / name)
        assert meta[CONTRACT_SHA256] == contract_checksum(meta), name


def test_an_edited_preprocessing_block_is_refused_naming_the_folder(image_model_copy):
    """The audit's case: the mean of the normalization edited; model.onnx is untouched."""
    before = ImageEncoder(image_model_copy, providers=["CPUExecutionProvider"]).encode([CAT])[0]
    meta = _meta(image_model_copy)
    meta["preprocessing"]["mean"] = [100, 100, 100]
    _write_meta(image_model_copy, meta, indent=2)
    with pytest.raises(ModelLoadError) as err:
        ImageEncoder(image_model_copy, providers=["CPUExecutionProvider"])
    msg = _one_line(err)
    assert msg.startswith(f"model folder {image_model_copy}: metadata.json was changed after "
                          "export")
    assert "contract_sha256" in msg and "rebuild the models: bash scripts/setup.sh" in msg
    # and it is not a harmless edit: the same photo, read with the edited block, scores otherwise
    meta[CONTRACT_SHA256] = contract_checksum(meta)  # re-sealed by hand: loads again
    _write_meta(image_model_copy, meta)
    after = ImageEncoder(image_model_copy, providers=["CPUExecutionProvider"]).encode([CAT])[0]
    assert np.abs(after - before).max() > 0.1


@pytest.mark.parametrize("edit", [
    "text max_length", "text pad token", "parity", "tokenizer checksum", "exported_at", "added",
])
def test_any_sealed_entry_edited_is_refused(text_model_copy, edit):
    meta = _meta(text_model_copy)
    if edit == "text max_length":
        meta["preprocessing"]["max_length"] = 16
    elif edit == "text pad token":
        meta["preprocessing"]["pad_token"] = "[UNK]"
    elif edit == "parity":  # a worse export passed off as a good one
        meta["parity"]["max_abs_diff"] = 0.0
    elif edit == "tokenizer checksum":  # a replaced tokenizer.json, its checksum updated
        tok = text_model_copy / "tokenizer.json"
        tok.write_text(tok.read_text(encoding="utf-8").replace('"[UNK]"', '"[unk]"'),
                       encoding="utf-8")
        meta["files"]["tokenizer.json"] = sha256_file(tok)
    elif edit == "exported_at":
        meta["exported_at"] = "2020-01-01T00:00:00+00:00"
    else:
        meta["preprocessing_override"] = {"max_length": 8}
    _write_meta(text_model_copy, meta)
    with pytest.raises(ModelLoadError, match=f"model folder {text_model_copy}: metadata.json "
                                             "was changed after export"):
        TextEncoder(text_model_copy, providers=["CPUExecutionProvider"])


def test_an_edited_ranker_block_of_the_document_ranker_is_refused(models_dir, tmp_path):
    folder = Path(shutil.copytree(models_dir / "doc-ranker", tmp_path / "doc-ranker"))
    meta = _meta(folder)
    meta["ranker"]["calibration"]["b"] += 1.0
    _write_meta(folder, meta)
    with pytest.raises(ModelLoadError, match="metadata.json was changed after export"):
        DocumentRanker(folder, providers=["CPUExecutionProvider"])


def test_key_order_and_layout_do_not_matter(image_model_copy):
    """The seal is over canonical JSON: a reformatted, reordered metadata.json still loads."""
    meta = _meta(image_model_copy)
    reordered = dict(reversed(list(meta.items())))
    _write_meta(image_model_copy, reordered, indent=None, ensure_ascii=True)
    assert OnnxModel(image_model_copy, warmup=False).metadata == meta


def test_a_model_exported_before_the_seal_is_refused_with_the_rebuild_command(image_model_copy):
    meta = _meta(image_model_copy)
    del meta[CONTRACT_SHA256]
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(image_model_copy, warmup=False)
    msg = _one_line(err)
    assert msg.startswith(f"model folder {image_model_copy}: metadata.json has no "
                          "contract_sha256")
    assert msg.endswith("rebuild the models: bash scripts/setup.sh")


def test_an_unsealed_or_edited_folder_is_not_up_to_date_for_the_exporter(image_model_copy):
    """So ``bash scripts/setup.sh`` (``python -m trainer.export``) rebuilds it."""
    from trainer.export.core import up_to_date
    from trainer.export.image import contract

    meta = _meta(image_model_copy)
    sources, spec = meta["source_packages"], contract(meta["preprocessing"]["size"])
    assert up_to_date(image_model_copy, sources, spec)
    meta["preprocessing"]["std"] = [64, 64, 64]
    _write_meta(image_model_copy, meta)
    assert not up_to_date(image_model_copy, sources, spec)
    del meta[CONTRACT_SHA256]
    _write_meta(image_model_copy, meta)
    assert not up_to_date(image_model_copy, sources, spec)


# -- a model that cannot load is named in the note ---------------------------------------------

@pytest.fixture
def broken_models(models_dir, tmp_path) -> Path:
    """A models folder whose image model.onnx is cut in half (the other models: the real ones)."""
    folder = tmp_path / "models"
    shutil.copytree(models_dir / IMAGE_MODEL, folder / IMAGE_MODEL)
    for name in (TEXT_MODEL, "sog-photos", "doc-ranker"):
        (folder / name).symlink_to(models_dir / name, target_is_directory=True)
    model = folder / IMAGE_MODEL / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    return folder


def test_the_note_names_the_image_model_that_could_not_load_and_why(broken_models, tmp_path):
    models = Models(broken_models)
    assert models.image is None and IMAGE_MODEL in models.unavailable
    with Library.open(tmp_path / "lib" / "tagassist.db") as library:
        user = library.users.get_or_create("ann").id
        [photo] = ensure_items(library, [CAT], user_id=user, thumbnails_dir=tmp_path / "thumbs")
        suggester = ColdStartSuggester(library, models)
        for shown in (None, True):  # hidden by default, or always shown: the same reason
            suggester.show_generated_set = shown
            made, note = suggester.generate_set(photo, user)
            assert made == [] and note != NO_IMAGE_WORDS and "being analysed" not in note
            assert note.startswith(f"image model {IMAGE_MODEL} could not be loaded (")
            assert "model.onnx does not match its metadata.json" in note
            assert note.endswith("); suggestions use your tags only, not what the photo shows")


def test_suggest_json_carries_the_note(broken_models, tmp_path):
    lib = tmp_path / "lib"
    [row] = as_json(cli("suggest", str(CAT), "--json", "--show-set", "--models",
                        str(broken_models), library=lib))
    assert row["generated_set"] == []
    assert row["generated_set_note"].startswith(f"image model {IMAGE_MODEL} could not be "
                                                "loaded (")
    assert "corrupt or was replaced" in row["generated_set_note"]
