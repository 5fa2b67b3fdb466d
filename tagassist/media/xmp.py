"""Read and write XMP keyword metadata (embedded packets and ``.xmp`` sidecar files).

Parsing goes through defusedxml, so entity tricks (billion laughs, external entities) are
refused instead of expanding.

Which sidecar belongs to a photo, and which name is written: :mod:`.sidecar_names`.

Writing never touches the photo.  An existing sidecar is edited in place: only dc:subject and
lr:hierarchicalSubject are replaced, every other property is kept, and so are its permission
bits; a new one gets the mode any new file gets (0666 less the umask).  A sidecar that is not
valid XML is never overwritten (MediaError) -- it might be a file the user cares about.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from tagassist.media.atomic import atomic_write
from tagassist.media.errors import MediaError
from tagassist.media.sidecar_names import find_sidecar, names_for

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_LR = "http://ns.adobe.com/lightroom/1.0/"
NS_XML = "http://www.w3.org/XML/1998/namespace"
_PREFIXES = {
    "x": NS_X, "rdf": NS_RDF, "dc": NS_DC, "lr": NS_LR,
    "xmp": "http://ns.adobe.com/xap/1.0/", "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/", "tiff": "http://ns.adobe.com/tiff/1.0/",
}
# Date properties, best first, used by the photo reader when EXIF has no capture time.
_DATE_PROPS = (
    ("http://ns.adobe.com/exif/1.0/", "DateTimeOriginal"),
    ("http://ns.adobe.com/photoshop/1.0/", "DateCreated"),
    ("http://ns.adobe.com/xap/1.0/", "CreateDate"),
)
MAX_XMP_BYTES = 4 << 20  # real packets are a few KiB; a huge one is hostile or broken

_PACKET_HEADER = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_TRAILER = '\n<?xpacket end="w"?>\n'


@dataclass(frozen=True)
class XmpInfo:
    """Keyword-related content of one XMP packet."""

    subjects: tuple[str, ...] = ()
    hierarchical: tuple[str, ...] = ()
    title: str | None = None
    description: str | None = None
    created: str | None = None  # raw date text, e.g. '2022-01-10T15:15:44.31'

    @property
    def subject(self) -> tuple[str, ...]:
        """Alias of ``subjects``, named like the XMP property (the importer uses this name)."""
        return self.subjects


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _parse_tree(data: bytes | str) -> ET.Element:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_XMP_BYTES:
        raise MediaError("XMP too large")
    # Embedded packets are often padded with NULs or whitespace; XML forbids NUL.
    data = data.strip(b"\x00 \t\r\n")
    if not data:
        raise MediaError("empty XMP")
    try:
        return DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as e:
        raise MediaError("XMP refused: uses a DTD or entities (possible XML bomb)") from e
    except (ET.ParseError, ValueError, UnicodeError) as e:
        raise MediaError(f"XMP is not valid XML: {e}") from e


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for s in items:
        s = s.strip()
        if s and s not in seen:
            seen[s] = None
    return tuple(seen)


def _items(prop: ET.Element) -> list[str]:
    """Values of an RDF container (Bag/Seq/Alt) or of a simple-valued property."""
    lis = prop.findall(f"./*/{_q(NS_RDF, 'li')}")
    if lis:
        return ["".join(li.itertext()) for li in lis]
    return ["".join(prop.itertext())]


def _alt_text(prop: ET.Element) -> str | None:
    """An rdf:Alt language alternative: prefer x-default, else the first entry."""
    lis = prop.findall(f"./*/{_q(NS_RDF, 'li')}")
    for li in lis:
        if li.get(_q(NS_XML, "lang")) == "x-default":
            return "".join(li.itertext()).strip() or None
    texts = ["".join(li.itertext()) for li in lis] or ["".join(prop.itertext())]
    return texts[0].strip() or None


# Tags another tool writes for its own bookkeeping (darktable's "darktable|format|cr2",
# "darktable|changed"): not the person's keywords, so never imported, and kept in the sidecar
# when TagAssist rewrites the keyword lists (darktable would otherwise lose them).
TOOL_TAG_PREFIXES = ("darktable|",)


def tool_tag(keyword: str) -> bool:
    return keyword.strip().casefold().startswith(TOOL_TAG_PREFIXES)


def _descriptions(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(_q(NS_RDF, "Description")))


def parse_xmp(data: bytes | str) -> XmpInfo:
    """Parse an XMP packet.  Raises MediaError if it is not (safe) XML."""
    root = _parse_tree(data)
    subjects: list[str] = []
    hier: list[str] = []
    title = description = created = None
    for desc in _descriptions(root):
        for prop in desc:
            if prop.tag == _q(NS_DC, "subject"):
                subjects += _items(prop)
            elif prop.tag == _q(NS_LR, "hierarchicalSubject"):
                hier += _items(prop)
            elif prop.tag == _q(NS_DC, "title") and title is None:
                title = _alt_text(prop)
            elif prop.tag == _q(NS_DC, "description") and description is None:
                description = _alt_text(prop)
        # Simple properties may also be written as attributes of rdf:Description.
        for ns, name in _DATE_PROPS:
            value = desc.get(_q(ns, name))
            if value is None:
                el = desc.find(_q(ns, name))
                value = "".join(el.itertext()) if el is not None else None
            if value and value.strip() and created is None:
                created = value.strip()
    return XmpInfo(_unique(subjects), _unique(hier), title, description, created)


def read_sidecar(photo_path: str | os.PathLike[str]) -> XmpInfo | None:
    """Keywords from the photo's sidecar, None if there is none; MediaError if it is broken."""
    side = find_sidecar(photo_path)
    if side is None:
        return None
    try:
        with open(side, "rb") as f:
            data = f.read(MAX_XMP_BYTES + 1)
    except PermissionError as e:
        raise MediaError("sidecar: permission denied") from e
    except OSError as e:
        raise MediaError(f"sidecar unreadable: {e.strerror or e}") from e
    return parse_xmp(data)


def _register_prefixes(data: bytes) -> None:
    """Keep the prefixes of an existing file (ET would otherwise invent ns0, ns1, ...)."""
    for prefix, uri in re.findall(rb'xmlns:([A-Za-z_][\w.-]*)="([^"]*)"', data):
        try:
            ET.register_namespace(prefix.decode(), uri.decode())
        except (ValueError, UnicodeDecodeError):
            pass  # reserved names such as ns0 stay auto-generated; still valid XML


def _fresh_tree() -> ET.Element:
    root = ET.Element(_q(NS_X, "xmpmeta"))
    rdf = ET.SubElement(root, _q(NS_RDF, "RDF"))
    desc = ET.SubElement(rdf, _q(NS_RDF, "Description"))
    desc.set(_q(NS_RDF, "about"), "")
    return root


def _bag(parent: ET.Element, tag: str, values: tuple[str, ...]) -> None:
    prop = ET.SubElement(parent, tag)
    bag = ET.SubElement(prop, _q(NS_RDF, "Bag"))
    for v in values:
        ET.SubElement(bag, _q(NS_RDF, "li")).text = v


@dataclass(frozen=True)
class SidecarWrite:
    """What one :func:`write_sidecars` call wrote."""

    written: tuple[Path, ...]  # every sidecar file written, the chosen name first
    skipped: tuple[tuple[Path, str], ...] = ()  # the file's other sidecars left untouched, why


def _with_keywords(source: Path | None, flat: tuple[str, ...], hier: tuple[str, ...]) -> bytes:
    """The packet of ``source`` (a new one if None) with these keywords; MediaError if broken."""
    if source is not None:
        try:
            data = source.read_bytes()
        except OSError as e:
            raise MediaError(f"sidecar unreadable: {e.strerror or e}") from e
        try:
            root = _parse_tree(data)
        except MediaError as e:
            raise MediaError(f"existing sidecar left untouched: {e.reason}") from e
        _register_prefixes(data)
        if root.tag == _q(NS_RDF, "RDF"):  # bare RDF without x:xmpmeta: wrap it
            wrapper = ET.Element(_q(NS_X, "xmpmeta"))
            wrapper.append(root)
            root = wrapper
        descs = _descriptions(root)
        if not descs:
            rdf = root.find(f".//{_q(NS_RDF, 'RDF')}")
            if rdf is None:
                raise MediaError("existing sidecar left untouched: no rdf:RDF element")
            descs = [ET.SubElement(rdf, _q(NS_RDF, "Description"))]
            descs[0].set(_q(NS_RDF, "about"), "")
        kept: dict[str, list[str]] = {}  # another tool's own tags stay in its sidecar
        for d in descs:
            for child in list(d):
                if child.tag in (_q(NS_DC, "subject"), _q(NS_LR, "hierarchicalSubject")):
                    kept.setdefault(child.tag, []).extend(
                        t for t in _items(child) if tool_tag(t))
                    d.remove(child)
        desc = descs[0]
        flat = _unique((*flat, *kept.get(_q(NS_DC, "subject"), ())))
        hier = _unique((*hier, *kept.get(_q(NS_LR, "hierarchicalSubject"), ())))
    else:
        root = _fresh_tree()
        desc = root[0][0]

    if flat:
        _bag(desc, _q(NS_DC, "subject"), flat)
    if hier:
        _bag(desc, _q(NS_LR, "hierarchicalSubject"), hier)
    ET.indent(root, space=" ")
    # ElementTree escapes &, <, > and quotes; the text is encoded as UTF-8 below.
    body = ET.tostring(root, encoding="unicode")
    return (_PACKET_HEADER + body + _PACKET_TRAILER).encode("utf-8")


def _store(target: Path, payload: bytes) -> None:
    try:
        atomic_write(target, payload, keep_mode=True)
    except PermissionError as e:
        raise MediaError("cannot write sidecar: permission denied") from e
    except OSError as e:
        raise MediaError(f"cannot write sidecar: {e.strerror or e}") from e


def write_sidecars(
    photo_path: str | os.PathLike[str],
    flat: Iterable[str],
    hierarchical: Iterable[str] = (),
    convention: str = "auto",
) -> SidecarWrite:
    """Write the photo's keywords to its sidecars atomically; what was written.

    ``flat`` becomes dc:subject, ``hierarchical`` ('a|b|c' paths) lr:hierarchicalSubject; both
    replace whatever those two properties held before.  The sidecar named by ``convention``
    (:func:`sidecar_target`) is written, created if need be; any other sidecar that belongs to
    the photo gets the same keywords.  MediaError if the chosen one cannot be written (it is
    left as it was); another one that cannot be is left as it was and listed in ``skipped``.
    """
    for prefix, uri in _PREFIXES.items():
        ET.register_namespace(prefix, uri)
    flat_t, hier_t = _unique(flat), _unique(hierarchical)
    target, existing = names_for(photo_path, convention)
    others = [s for s in existing if s != target]

    if target.exists() or not others:
        payload = _with_keywords(target if target.exists() else None, flat_t, hier_t)
    else:  # a new name beside the file's other sidecar starts as a copy of it
        try:
            payload = _with_keywords(others[0], flat_t, hier_t)
        except MediaError:
            payload = _with_keywords(None, flat_t, hier_t)  # that one is reported below
    _store(target, payload)

    written, skipped = [target], []
    for other in others:
        try:
            _store(other, _with_keywords(other, flat_t, hier_t))
        except MediaError as e:
            skipped.append((other, e.reason))
        else:
            written.append(other)
    return SidecarWrite(tuple(written), tuple(skipped))


def write_sidecar(
    photo_path: str | os.PathLike[str],
    flat: Iterable[str],
    hierarchical: Iterable[str] = (),
    convention: str = "auto",
) -> Path:
    """:func:`write_sidecars`, returning the chosen sidecar's path only."""
    return write_sidecars(photo_path, flat, hierarchical, convention).written[0]

