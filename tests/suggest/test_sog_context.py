"""SOG's early-fusion context (tagassist.suggest.sog_context): fields, markers, truncation."""
from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers import Tokenizer

from tagassist.suggest.sog_context import (
    MARKER_IDS,
    USER,
    context_ids,
    drop_fields,
    fuse,
    tag_text,
)

TOKENIZER = Path(__file__).resolve().parents[2] / "models" / "text-minilm" / "tokenizer.json"


@pytest.fixture(scope="module")
def tok():
    if not TOKENIZER.is_file():
        pytest.skip("models/text-minilm not built (python -m trainer.export)")
    t = Tokenizer.from_file(str(TOKENIZER))
    t.no_truncation()
    t.no_padding()
    return t


def test_fuse_orders_the_fields_and_drop_fields_empties_them():
    ctx = fuse(["tabby", "cat"], ["amsterdam"], ["winter", "evening"], "  my  cat ")
    assert ctx == "tabby cat [IMG] amsterdam [LOC] winter evening [TIME] my cat"
    assert drop_fields(ctx, ("image", "text")) == "tabby cat [IMG] [LOC] [TIME] my cat"
    assert drop_fields(ctx, ()) == "[IMG] [LOC] [TIME]"
    assert drop_fields("plain title", ("text",)) == "plain title"
    assert drop_fields("plain title", ("image",)) == ""


def test_markers_are_single_ids_in_the_unused_slots(tok):
    vocab_lines = TOKENIZER.with_name("vocab.txt").read_text(encoding="utf-8").splitlines()
    assert [vocab_lines[i] for i in MARKER_IDS.values()] == [
        "[unused0]", "[unused1]", "[unused2]", "[unused3]"]
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    ids = context_ids(tok, fuse(["cat"], ["paris"], [], "hello world"), 48, cls, sep, user=True)
    words = [tok.id_to_token(i) for i in ids]
    assert words == ["[CLS]", "[unused3]", "cat", "[unused0]", "paris", "[unused1]", "[unused2]",
                     "hello", "world", "[SEP]"]
    assert ids[1] == MARKER_IDS[USER]
    cut = context_ids(tok, fuse(["cat"], [], [], "a long text " * 20), 5, cls, sep)
    assert len(cut) == 7 and cut[1] == tok.token_to_id("cat")  # later fields are cut first


def test_tag_text_reads_the_leaf_words():
    assert tag_text("animals|pets|cat") == "cat"
    assert tag_text("machine_learning") == "machine learning"
    assert tag_text("gene-orthology.v2") == "gene orthology v2"
    assert tag_text("___") == "___"
