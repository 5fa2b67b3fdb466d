"""Read and write XMP keyword metadata (embedded packets and ``.xmp`` sidecar files).

Parsing goes through defusedxml, so entity tricks (billion laughs, external entities) are
refused instead of expanding.

Sidecar names (issue 20).  Two conventions exist: the *filename* one, ``IMG_1.jpg.xmp``
(darktable, digiKam), and the *basename* one, ``IMG_1.xmp`` (Lightroom, Capture One, exiftool's
``%d%f.xmp``).  Both are read; ``IMG_1.jpg.xmp`` wins when both exist, since it cannot belong to
another file.  A basename sidecar is ambiguous: ``photo.xmp`` next to ``photo.jpg`` *and*
``photo.png`` could be either's.  So it belongs to a file only when that file is the one media
file of its folder with that stem (images, RAW and video count, the stem compared ignoring case;
documents and other sidecars do not), or the one RAW file of a RAW+JPEG pair (Lightroom writes
``IMG_1.xmp`` for ``IMG_1.CR2`` and keeps ``IMG_1.JPG``'s metadata inside the JPEG).  Otherwise
``photo.xmp`` is read for none of the files sharing the stem and written for none of them: each
gets its own ``photo.jpg.xmp`` / ``photo.png.xmp`` instead, and the shared file is left as it is.

Which name is written (``convention``, one of :data:`CONVENTIONS`): ``"filename"``,
``"basename"`` (the filename one for a shared stem), or ``"auto"``: the convention of the sidecar
already next to the file, else ``IMG_1.xmp`` for RAW files (as Lightroom does) and
``IMG_1.jpg.xmp`` for everything else.  Every sidecar that belongs to the file gets the new
keywords, so a file with both names never shows one tool the old keywords; a chosen name that does
not exist yet starts as a copy of the file's other sidecar (rating, title, develop settings...).

Writing never touches the photo.  An existing sidecar is edited in place: only dc:subject and
lr:hierarchicalSubject are replaced, every other property is kept, and so are its permission
bits; a new one gets the mode any new file gets (0666 less the umask).  A sidecar that is not
valid XML is never overwritten (MediaError) -- it might be a file the user cares about.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from tagassist.media.errors import MediaError
from tagassist.media.kinds import PHOTO_EXTS

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


SidecarConvention = Literal["auto", "basename", "filename"]
#: The sidecar names a person can choose: ``auto`` (what is there, else by file type),
#: ``basename`` (``IMG_1.xmp``, Lightroom/Capture One), ``filename`` (``IMG_1.jpg.xmp``).
CONVENTIONS: tuple[SidecarConvention, ...] = ("auto", "basename", "filename")

#: Camera RAW extensions: ``auto`` names their new sidecars ``IMG_1.xmp``, as Lightroom does.
RAW_EXTS = frozenset({
    ".3fr", ".ari", ".arw", ".bay", ".cap", ".cr2", ".cr3", ".crw", ".dcr", ".dcs", ".dng",
    ".drf", ".eip", ".erf", ".fff", ".gpr", ".iiq", ".k25", ".kdc", ".mdc", ".mef", ".mos",
    ".mrw", ".nef", ".nrw", ".orf", ".pef", ".ptx", ".r3d", ".raf", ".raw", ".rw2", ".rwl",
    ".rwz", ".sr2", ".srf", ".srw", ".x3f",
})
# Everything else photo tools catalogue beside photos: each may own a basename sidecar, so each
# counts when deciding whether ``photo.xmp`` is ambiguous.
_OTHER_MEDIA_EXTS = frozenset({
    ".avif", ".bmp", ".exr", ".gif", ".hdr", ".heic", ".heif", ".jp2", ".jpe", ".jxl", ".psb",
    ".psd", ".3gp", ".avi", ".m2ts", ".m4v", ".mkv", ".mov", ".mp4", ".mpg", ".mts", ".webm",
    ".wmv",
})
_MEDIA_EXTS = PHOTO_EXTS | RAW_EXTS | _OTHER_MEDIA_EXTS

# A folder's media files by stem, reused while the folder is unchanged: an import asks once per
# photo, and a Lightroom folder has a basename sidecar beside every photo.
_LISTINGS: OrderedDict[str, tuple[tuple[int, int, int], dict[str, tuple[str, ...]]]] = \
    OrderedDict()
_LISTINGS_LOCK = threading.Lock()  # the importer reads photos on a thread pool
_LISTINGS_KEPT = 64
# A listing is kept only once its folder is this much older than the listing: a change made in
# the same tick of a coarse clock (FAT: 2 s) as the last one would not show in the folder's mtime.
_RACY_NS = 3_000_000_000


def sidecar_candidates(photo_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The two sidecar names we recognise, in order of preference: filename, basename."""
    p = Path(photo_path)
    return p.with_name(p.name + ".xmp"), p.with_suffix(".xmp")


def _check(convention: str) -> SidecarConvention:
    if convention not in CONVENTIONS:
        raise ValueError(f"sidecar convention {convention!r}: use one of {', '.join(CONVENTIONS)}")
    return convention  # type: ignore[return-value]


def _media_by_stem(folder: Path) -> dict[str, tuple[str, ...]]:
    """Names of the folder's media files (any of ``_MEDIA_EXTS``) by case-folded stem."""
    try:
        st = os.stat(folder)
    except OSError:
        return {}
    key, stamp = os.path.abspath(folder), (st.st_dev, st.st_ino, st.st_mtime_ns)
    with _LISTINGS_LOCK:
        kept = _LISTINGS.get(key)
        if kept is not None and kept[0] == stamp:
            _LISTINGS.move_to_end(key)
            return kept[1]
    found: dict[str, list[str]] = {}
    try:
        with os.scandir(folder) as it:
            for entry in it:
                stem, ext = os.path.splitext(entry.name)
                if ext.lower() not in _MEDIA_EXTS:
                    continue
                try:
                    if not entry.is_file():
                        continue
                except OSError:
                    continue
                found.setdefault(stem.casefold(), []).append(entry.name)
    except OSError:
        return {}
    listing = {stem: tuple(names) for stem, names in found.items()}
    if time.time_ns() - st.st_mtime_ns > _RACY_NS:
        with _LISTINGS_LOCK:
            _LISTINGS[key] = (stamp, listing)
            _LISTINGS.move_to_end(key)
            while len(_LISTINGS) > _LISTINGS_KEPT:
                _LISTINGS.popitem(last=False)
    return listing


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def basename_sidecar_belongs(photo_path: str | os.PathLike[str]) -> bool:
    """Whether ``photo.xmp`` can be this file's.

    Yes when no other media file in its folder has its stem.  ``photo.jpg`` beside
    ``photo.png`` (or ``Photo.mov``) shares it: then the basename sidecar is nobody's, for
    reading and for writing.  One exception, Lightroom's RAW+JPEG pair: ``IMG_1.xmp`` beside
    ``IMG_1.CR2`` and ``IMG_1.JPG`` was written for the RAW (the JPEG keeps its metadata inside
    itself), so it is the RAW's when that is the only RAW file of the stem, and never the
    JPEG's.
    """
    p = Path(photo_path)
    others = [n for n in _media_by_stem(p.parent).get(p.stem.casefold(), ())
              # the same file under another case (a case-insensitive disk) is not another file
              if n != p.name and not (n.casefold() == p.name.casefold()
                                      and _same_file(p.parent / n, p))]
    if not others:
        return True
    return (p.suffix.lower() in RAW_EXTS
            and not any(os.path.splitext(n)[1].lower() in RAW_EXTS for n in others))


def _names(photo_path: str | os.PathLike[str], convention: str) -> tuple[Path, list[Path]]:
    """(the sidecar to write under ``convention``, the existing sidecars that belong to the
    photo, the preferred one first); the folder is listed only if a basename needs it."""
    conv = _check(convention)
    own, base = sidecar_candidates(photo_path)
    has_own, has_base = own.is_file(), base != own and base.is_file()
    raw = Path(photo_path).suffix.lower() in RAW_EXTS
    base_ok = (base != own and (has_base or conv == "basename" or (conv == "auto" and raw))
               and basename_sidecar_belongs(photo_path))
    existing = [side for side, there in ((own, has_own), (base, has_base and base_ok)) if there]
    if conv == "basename" or (conv == "auto" and not has_own and (has_base or raw)):
        return (base if base_ok else own), existing
    return own, existing


def sidecars_of(photo_path: str | os.PathLike[str]) -> list[Path]:
    """The existing sidecars that belong to the photo, the preferred one first."""
    return _names(photo_path, "filename")[1]


def find_sidecar(photo_path: str | os.PathLike[str]) -> Path | None:
    """The sidecar to read for a photo, or None (a basename sidecar of a shared stem is ignored)."""
    own, base = sidecar_candidates(photo_path)
    if own.is_file():
        return own
    if base != own and base.is_file() and basename_sidecar_belongs(photo_path):
        return base
    return None


def sidecar_target(photo_path: str | os.PathLike[str], convention: str = "auto") -> Path:
    """The sidecar name the photo's keywords are written to under ``convention`` (see module)."""
    return _names(photo_path, convention)[0]


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
        for d in descs:
            for child in list(d):
                if child.tag in (_q(NS_DC, "subject"), _q(NS_LR, "hierarchicalSubject")):
                    d.remove(child)
        desc = descs[0]
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
    target, existing = _names(photo_path, convention)
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


def _new_temp(folder: Path) -> tuple[int, str]:
    """A new temp file in ``folder``, created as any new file is (0666 less the umask, so a
    default ACL applies too), open for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".tmp-{secrets.token_hex(6)}.part")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def atomic_write(target: Path, payload: bytes, *, keep_mode: bool = False) -> None:
    """Write bytes to ``target`` so that readers see either the old or the new file, never half.

    ``keep_mode``: the result has the permission bits (and, where allowed, the group) of the
    file it replaces, or a new file's mode (0666 less the umask) if there was none; files the
    user owns, such as sidecars, want this.  Without it the file is private (0600), as caches
    and generated tables have always been written.
    """
    if keep_mode:
        fd, tmp = _new_temp(target.parent)
    else:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if keep_mode:
            _copy_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)


def _copy_mode(old: Path, new: str) -> None:
    try:
        st = os.stat(old)
    except FileNotFoundError:
        return  # a new file keeps the mode it was created with
    if hasattr(os, "chown") and st.st_gid != os.stat(new).st_gid:
        try:
            os.chown(new, -1, st.st_gid)  # before chmod: chown may clear the setgid bit
        except OSError:
            pass  # not a member of that group: the mode is still kept
    os.chmod(new, stat.S_IMODE(st.st_mode))


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not possible on every platform (Windows), so best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
