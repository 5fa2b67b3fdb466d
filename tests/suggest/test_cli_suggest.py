"""``tagassist featurize`` / ``suggest`` / ``tag PATH TAG...`` / ``untag`` as separate processes,
on a fresh library, with the default (bundled) models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tagassist.paths import bundled_models_dir
from tagassist.suggest.generated_set import SET_HIDDEN
from tests import sample
from tests.test_cli import as_json, cli

CAT = "2019-spring-berkeley/chelsea-the-cat.jpg"


def test_default_models_are_the_bundled_ones(models_dir):
    assert bundled_models_dir().resolve() == Path(models_dir).resolve()


def test_suggest_json_on_a_fresh_library(models_dir, sample_copy, tmp_path):
    lib = tmp_path / "lib"
    photo = sample_copy / CAT
    hidden = as_json(cli("suggest", str(photo), "--json", "--top", "5", library=lib))[0]
    assert hidden["generated_set"] == [] and hidden["generated_set_note"] == SET_HIDDEN
    rows = as_json(cli("suggest", str(photo), "--json", "--top", "5", "--show-set",
                       library=lib))
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert set(row) >= {"path", "ranked", "generated_set", "generated_set_note", "models"}
    assert row["path"] == str(photo)
    # SOG's generated set: 5 distinct tags, the photo's own tag not among them
    generated = [g["tag"] for g in row["generated_set"]]
    assert len(generated) == 5 == len(set(generated)) and row["generated_set_note"] == ""
    assert "animals|pets|cat" not in generated
    assert all(0.0 < g["probability"] <= 1.0 for g in row["generated_set"])
    assert set(row["models"]) == {"image-lite0", "text-minilm", "sog-photos"}
    assert all(isinstance(v, str) for v in row["models"].values())
    assert 1 <= len(row["ranked"]) <= 5
    for s in row["ranked"]:
        assert set(s) == {"tag", "score", "reason"} and 0.0 <= s["score"] <= 1.0 and s["reason"]
    # the photo was imported on demand; its embedded keyword is its tag, so not suggested
    tags = {t["tag"] for t in as_json(cli("tags", str(photo), "--json", library=lib))["tags"]}
    assert tags == {"animals|pets|cat"}
    assert "animals|pets|cat" not in [s["tag"] for s in row["ranked"]]
    # featurize then finds only the sibling files it was never asked about: none imported
    report = as_json(cli("featurize", "--json", library=lib))
    assert report["featurized"] == 0 and report["failed"] == []


def test_featurize_then_tag_and_untag_positional(models_dir, sample_copy, tmp_path):
    lib = tmp_path / "lib"
    cli("import", str(sample_copy), "--json", library=lib)
    report = as_json(cli("featurize", "--json", library=lib))
    assert report["featurized"] == sample.ITEMS and report["failed"] == []
    photo = sample_copy / "2018-montreal/espresso.jpg"
    assert as_json(cli("tag", str(photo), "cafe", "morning coffee", "--json",
                       library=lib))["added"] == ["cafe", "morning coffee"]
    tags = {t["tag"] for t in as_json(cli("tags", str(photo), "--json", library=lib))["tags"]}
    assert tags == {"coffee", "cafe", "morning coffee"}
    assert as_json(cli("untag", str(photo), "cafe", "--json", library=lib))["removed"] == ["cafe"]
    ranked = as_json(cli("suggest", str(photo), "--json", library=lib))[0]["ranked"]
    assert {"coffee", "morning coffee"}.isdisjoint(s["tag"] for s in ranked)
    tags = {t["tag"] for t in as_json(cli("tags", str(photo), "--json", library=lib))["tags"]}
    assert tags == {"coffee", "morning coffee"}


def test_broken_models_featurize_fails_suggest_falls_back(models_dir, sample_copy, tmp_path):
    broken = Path(shutil.copytree(models_dir, tmp_path / "models"))
    (broken / "image-lite0" / "model.onnx").write_bytes(b"not a model")
    lib = tmp_path / "lib"
    cli("import", str(sample_copy), "--json", library=lib)
    proc = cli("featurize", "--models", str(broken), library=lib, ok=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("tagassist: cannot featurize:")
    assert len(proc.stderr.strip().splitlines()) == 1

    row = as_json(cli("suggest", str(sample_copy / CAT), "--json", "--models", str(broken),
                      library=lib))[0]
    assert row["models"]["image-lite0"] is None and row["models"]["text-minilm"]
    assert "image-lite0" in row["models"]["unavailable"]
    # history/context still answer: the library's file tags are popular tags
    assert row["ranked"] and all("looks like" not in s["reason"] for s in row["ranked"])


@pytest.mark.parametrize("args", [["suggest", "/nonexistent/x.jpg"], ["untag", "/nope.jpg", "a"]])
def test_missing_files_are_one_clear_line(tmp_path, args):
    proc = cli(*args, library=tmp_path / "lib", ok=False)
    assert proc.returncode == 2 and proc.stderr.startswith("tagassist: ")
    assert "Traceback" not in proc.stderr and json.dumps(proc.stdout) == '""'
