"""A zip reader on a ``ByteSource`` that reads only the end records, the directory and asked-for members.

It is as lenient as torch's own reader where Python's ``zipfile`` refuses (flag bits 5/6, a bad CRC,
data descriptors, junk before the archive, local headers that disagree with the directory): those
quirks are recorded in ``ZipArchive.anomalies`` so analyzers can report them, and the content is still
read. Decompression is bounded by the ``Limits`` (size, ratio, members).
"""

from __future__ import annotations

import lzma
import struct
import zlib
from dataclasses import dataclass

from malhug.analyzers.limits import LimitExceeded, Limits, MalformedInput
from malhug.analyzers.shared.inflate import (
    RATIO_FLOOR,
    Inflater,
    bz2_inflater,
    inflate,
    raw_lzma1_inflater,
    source_chunks,
    zlib_inflater,
)
from malhug.analyzers.shared.slices import SliceSource
from malhug.analyzers.shared.source import ByteSource

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_EOCD_SIG = b"PK\x06\x06"

EOCD_SIZE = 22
ZIP64_LOCATOR_SIZE = 20
ZIP64_EOCD_SIZE = 56
LOCAL_SIZE = 30
MAX_ANOMALIES_PER_KIND = 20
CENTRAL_SIZE = 46
MAX_COMMENT = 0xFFFF

FLAG_ENCRYPTED = 0x0001
FLAG_PATCHED = 0x0020
FLAG_STRONG_ENCRYPTION = 0x0040
FLAG_UTF8 = 0x0800

STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14

# The first read at the end of the file: end records plus, usually, the whole directory.
SHORT_TAIL = 16 * 1024
# Bytes read past a local header's name in the same request (its extra field, usually < 100 bytes).
LOCAL_READAHEAD = 256
# Partial reads up to this size come with the local header read.
MAX_PREFETCH = 64 * 1024
# The central directory is read in one piece; no honest archive needs more than this per member.
MAX_DIRECTORY_BYTES_PER_MEMBER = 1024

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")


@dataclass(frozen=True, slots=True)
class ZipMember:
    """One central-directory entry."""

    name: str
    compressed_size: int
    size: int
    method: int
    flags: int
    header_offset: int
    crc: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION))


@dataclass(frozen=True, slots=True)
class ZipAnomaly:
    """Something a strict reader refuses or a loader would read differently from us.

    ``kind``: junk-prefix, trailing-data, flag-bits, encrypted-flag, bad-crc, size-mismatch,
    local-header-mismatch, duplicate-name, entry-count, overlapping-entries, more (the count of
    anomalies of one kind beyond ``MAX_ANOMALIES_PER_KIND``).
    """

    kind: str
    message: str
    member: str | None = None


class UnsupportedCompression(MalformedInput):
    """A member uses a compression method we cannot decode (so we cannot see inside it)."""

    def __init__(self, member: ZipMember):
        self.method = member.method
        super().__init__(f"member {member.name!r} uses unsupported compression method {member.method}")


class EncryptedMember(MalformedInput):
    """A member is really encrypted: its content cannot be analyzed."""

    def __init__(self, member: ZipMember, detail: str):
        super().__init__(f"member {member.name!r} is encrypted ({detail})")


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & FLAG_UTF8:
        return raw.decode("utf-8", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp437")


def _exact(data: bytes, n: int, offset: int, what: str) -> bytes:
    """``data`` when it holds the ``n`` bytes asked for; a source that serves fewer than its size
    (a member sniffed from its first bytes only) gives a short read, which is no record to unpack."""
    if len(data) < n:
        raise MalformedInput(f"{what} cut short: {len(data)} of {n} bytes", offset=offset)
    return data


class ZipArchive:
    """Directory and members of a zip held in a ``ByteSource``.

    Construction reads the tail (at most 64 KiB + the end records) and the central directory in one
    read; ``read`` reads one member's local header and data.
    """

    def __init__(self, src: ByteSource, limits: Limits):
        self.src = src
        self.limits = limits
        self.members: list[ZipMember] = []
        self.anomalies: list[ZipAnomaly] = []
        self.comment = b""
        # Bytes of junk before the archive: every stored offset is shifted by this much.
        self.prefix = 0
        self._data_offsets: dict[int, int] = {}
        self._heads: dict[int, bytes] = {}
        self._decompressed_total = 0
        self._seen_anomalies: set[ZipAnomaly] = set()
        self._per_kind: dict[str, int] = {}
        self._dropped: dict[str, int] = {}  # anomalies of a kind beyond the cap, counted
        self._read_directory()

    # -- directory -------------------------------------------------------------------------------
    def _note(self, kind: str, message: str, member: str | None = None) -> None:
        """Record an anomaly once; beyond ``MAX_ANOMALIES_PER_KIND`` of a kind they are counted (a
        directory of 100,000 repeated names is one archive quirk, not 100,000 findings)."""
        anomaly = ZipAnomaly(kind, message, member)
        if anomaly in self._seen_anomalies:
            return
        self._seen_anomalies.add(anomaly)
        kept = self._per_kind.get(kind, 0)
        if kept >= MAX_ANOMALIES_PER_KIND:
            self._dropped[kind] = self._dropped.get(kind, 0) + 1
            return
        self._per_kind[kind] = kept + 1
        self.anomalies.append(anomaly)

    def all_anomalies(self) -> list[ZipAnomaly]:
        """The anomalies, then one count per kind of those beyond the cap."""
        more = [ZipAnomaly("more", f"{n} more anomalies of the kind {kind!r}") for kind, n in self._dropped.items()]
        return [*self.anomalies, *more]

    def _check_overlaps(self) -> None:
        """Entries that share a local header or whose data ranges overlap (an overlapped-entry zip:
        readers disagree on what each name holds, and N entries on one member multiply its cost).
        Ranges are taken from the directory (local extra fields unknown: they can only lengthen a
        range, so no overlap is reported that is not there)."""
        by_offset: dict[int, list[ZipMember]] = {}
        for member in self.members:
            by_offset.setdefault(member.header_offset, []).append(member)
        for offset, sharing in by_offset.items():
            if len(sharing) > 1:
                names = ", ".join(repr(m.name) for m in sharing[:4]) + (", …" if len(sharing) > 4 else "")
                self._note(
                    "overlapping-entries",
                    f"{len(sharing)} central directory entries share the local header at offset {offset}: {names}",
                    sharing[0].name,
                )
        starts = sorted(by_offset)
        for here, after in zip(starts, starts[1:], strict=False):
            first = by_offset[here][0]
            end = here + LOCAL_SIZE + len(first.name.encode()) + first.compressed_size
            if after < end:
                self._note(
                    "overlapping-entries",
                    f"member {by_offset[after][0].name!r} starts inside the data of {first.name!r} "
                    f"(offset {after} < {end})",
                    by_offset[after][0].name,
                )

    def _find_eocd(self) -> tuple[int, bytes]:
        """(offset of the end record, the tail read). A short tail first: it usually holds the end
        records and a small directory too; the full 64 KiB tail only for long comments."""
        size = self.src.size
        if size < EOCD_SIZE:
            raise MalformedInput(f"{size} bytes is too small for a zip archive", offset=0)
        full = min(size, MAX_COMMENT + EOCD_SIZE + ZIP64_LOCATOR_SIZE)
        for tail_len in sorted({min(size, SHORT_TAIL), full}):
            tail_start = size - tail_len
            tail = _exact(self.src.read_at(tail_start, tail_len), tail_len, tail_start, "the archive's tail")
            lenient: int | None = None
            idx = tail.rfind(EOCD_SIG)
            while idx >= 0:
                if idx + EOCD_SIZE <= len(tail):
                    comment_len = struct.unpack_from("<H", tail, idx + 20)[0]
                    end = idx + EOCD_SIZE + comment_len
                    if end == len(tail):
                        return tail_start + idx, tail
                    if end < len(tail) and lenient is None:
                        lenient = idx
                idx = tail.rfind(EOCD_SIG, 0, idx)
            if lenient is not None and tail_len == full:
                self._note("trailing-data", "data follows the end of the zip archive")
                return tail_start + lenient, tail
        raise MalformedInput("no end-of-central-directory record (truncated or not a zip)", offset=size)

    def _read_directory(self) -> None:
        eocd_pos, tail = self._find_eocd()
        tail_start = self.src.size - len(tail)
        rec = tail[eocd_pos - tail_start : eocd_pos - tail_start + EOCD_SIZE]
        _, _disk, _cd_disk, _n_disk, n_total, cd_size, cd_offset, comment_len = _EOCD.unpack(rec)
        comment_at = eocd_pos - tail_start + EOCD_SIZE
        self.comment = tail[comment_at : comment_at + comment_len]
        cd_end = eocd_pos
        loc_pos = eocd_pos - ZIP64_LOCATOR_SIZE
        if loc_pos >= 0:
            loc = self._slice_or_read(tail, tail_start, loc_pos, ZIP64_LOCATOR_SIZE)
            if loc[:4] == ZIP64_LOCATOR_SIG:
                z64_pos = loc_pos - ZIP64_EOCD_SIZE
                if z64_pos < 0:
                    raise MalformedInput("zip64 end record before the start of the file", offset=loc_pos)
                z64 = self._slice_or_read(tail, tail_start, z64_pos, ZIP64_EOCD_SIZE)
                if z64[:4] != ZIP64_EOCD_SIG:
                    _, _, stated, _ = _ZIP64_LOCATOR.unpack(loc)
                    z64_pos = stated
                    z64 = _exact(self.src.read_at(stated, ZIP64_EOCD_SIZE), ZIP64_EOCD_SIZE, stated, "zip64 end record")
                    if z64[:4] != ZIP64_EOCD_SIG:
                        raise MalformedInput("zip64 locator points to no zip64 end record", offset=loc_pos)
                _, _, _, _, _, _, _, n_total, cd_size, cd_offset = _ZIP64_EOCD.unpack(z64)
                cd_end = z64_pos
        if n_total > self.limits.max_members:
            raise LimitExceeded("zip members", self.limits.max_members, n_total)
        if cd_size > max(n_total, 1) * MAX_DIRECTORY_BYTES_PER_MEMBER + 65536:
            raise LimitExceeded(
                "zip central directory bytes", max(n_total, 1) * MAX_DIRECTORY_BYTES_PER_MEMBER, cd_size
            )
        self.prefix = cd_end - cd_size - cd_offset
        if self.prefix < 0:
            raise MalformedInput("central directory lies outside the file (truncated archive)", offset=cd_offset)
        if self.prefix > 0:
            self._note("junk-prefix", f"{self.prefix} bytes of other data precede the zip archive")
        cd_at = cd_offset + self.prefix
        if cd_at >= tail_start:
            cd = tail[cd_at - tail_start : cd_at - tail_start + cd_size]
        else:
            cd = self.src.read_at(cd_at, cd_size)
        if len(cd) < cd_size:
            raise MalformedInput("central directory is truncated", offset=cd_offset + self.prefix)
        self._parse_directory(cd, cd_offset + self.prefix, n_total)

    def _slice_or_read(self, tail: bytes, tail_start: int, pos: int, n: int) -> bytes:
        if pos >= tail_start:
            return tail[pos - tail_start : pos - tail_start + n]
        return _exact(self.src.read_at(pos, n), n, pos, "zip64 end records")

    def _parse_directory(self, cd: bytes, base: int, n_total: int) -> None:
        pos = 0
        seen: set[str] = set()
        while pos + CENTRAL_SIZE <= len(cd):
            fields = _CENTRAL.unpack_from(cd, pos)
            if fields[0] != CENTRAL_SIG:
                raise MalformedInput("bad central directory entry signature", offset=base + pos)
            flags, method, crc, csize, usize = fields[3], fields[4], fields[7], fields[8], fields[9]
            name_len, extra_len, comment_len, header_offset = fields[10], fields[11], fields[12], fields[16]
            name_raw = cd[pos + CENTRAL_SIZE : pos + CENTRAL_SIZE + name_len]
            extra = cd[pos + CENTRAL_SIZE + name_len : pos + CENTRAL_SIZE + name_len + extra_len]
            if len(name_raw) < name_len:
                raise MalformedInput("central directory entry runs past the directory", offset=base + pos)
            usize, csize, header_offset = self._zip64_extra(extra, usize, csize, header_offset, base + pos)
            name = _decode_name(name_raw, flags)
            member = ZipMember(name, csize, usize, method, flags, header_offset, crc)
            if len(self.members) >= self.limits.max_members:
                raise LimitExceeded("zip members", self.limits.max_members, len(self.members) + 1)
            self.members.append(member)
            if name in seen:
                self._note("duplicate-name", f"member name {name!r} appears more than once", name)
            seen.add(name)
            if flags & (FLAG_PATCHED | FLAG_STRONG_ENCRYPTION):
                bits = [str(b) for b, mask in ((5, FLAG_PATCHED), (6, FLAG_STRONG_ENCRYPTION)) if flags & mask]
                self._note(
                    "flag-bits",
                    f"member {name!r} sets general-purpose flag bit {'/'.join(bits)}: Python's zipfile refuses it, torch reads it",
                    name,
                )
            pos += CENTRAL_SIZE + name_len + extra_len + comment_len
        self._check_overlaps()
        if len(self.members) != n_total:
            self._note("entry-count", f"end record announces {n_total} members, directory holds {len(self.members)}")

    @staticmethod
    def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int, where: int) -> tuple[int, int, int]:
        pos = 0
        while pos + 4 <= len(extra):
            tag, length = struct.unpack_from("<HH", extra, pos)
            body = extra[pos + 4 : pos + 4 + length]
            if tag == 0x0001:
                values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
                try:
                    if usize == 0xFFFFFFFF:
                        usize = values.pop(0)
                    if csize == 0xFFFFFFFF:
                        csize = values.pop(0)
                    if offset == 0xFFFFFFFF:
                        offset = values.pop(0)
                except IndexError as exc:
                    raise MalformedInput("zip64 extra field is too short", offset=where) from exc
                break
            pos += 4 + length
        return usize, csize, offset

    # -- members ---------------------------------------------------------------------------------
    def find(self, name: str) -> ZipMember | None:
        for member in self.members:
            if member.name == name:
                return member
        return None

    def data_offset(self, member: ZipMember, prefetch: int = 0) -> int:
        """Absolute offset of the member's data in the source (reads its local header once).

        With ``prefetch``, the first bytes of the data come along in the same read and are kept for
        one ``read(member, max_bytes)`` call: sniffing a stored member costs one request.
        """
        key = member.header_offset
        if key in self._data_offsets:
            return self._data_offsets[key]
        at = self.prefix + member.header_offset
        buf = self.src.read_at(at, LOCAL_SIZE + len(member.name.encode()) + LOCAL_READAHEAD + prefetch)
        if len(buf) < LOCAL_SIZE or buf[:4] != LOCAL_SIG:
            raise MalformedInput(f"member {member.name!r}: no local file header at its offset", offset=at)
        _, _, _flags, method, _, _, _crc, _csize, _usize, name_len, extra_len = _LOCAL.unpack_from(buf)
        if LOCAL_SIZE + name_len <= len(buf):
            local_name = buf[LOCAL_SIZE : LOCAL_SIZE + name_len]
        else:
            local_name = self.src.read_at(at + LOCAL_SIZE, name_len)
        if _decode_name(local_name, member.flags) != member.name:
            self._note(
                "local-header-mismatch",
                f"local header names {local_name[:80]!r} where the directory says {member.name!r}",
                member.name,
            )
        if method != member.method:
            self._note(
                "local-header-mismatch",
                f"local header says compression method {method}, the directory says {member.method}",
                member.name,
            )
        start = at + LOCAL_SIZE + name_len + extra_len
        if start + member.compressed_size > self.src.size:
            raise MalformedInput(f"member {member.name!r} runs past the end of the file (truncated)", offset=start)
        self._data_offsets[key] = start
        if prefetch and len(buf) > start - at:
            self._heads[key] = buf[start - at : start - at + min(prefetch, member.compressed_size)]
        return start

    def member_source(self, member: ZipMember) -> ByteSource | None:
        """A zero-copy view of a stored, unencrypted member (``None`` when it must be decompressed)."""
        if member.method != STORED or member.flags & FLAG_ENCRYPTED or member.compressed_size != member.size:
            return None
        return SliceSource(self.src, self.data_offset(member), member.compressed_size)

    def _factory(self, member: ZipMember, start: int) -> tuple[int, Inflater | None]:
        """(offset of the compressed stream, inflater) — ``None`` for stored data."""
        if member.method == STORED:
            return start, None
        if member.method == DEFLATED:
            return start, zlib_inflater(-15)()
        if member.method == BZIP2:
            return start, bz2_inflater()
        if member.method == LZMA:
            head = self.src.read_at(start, 4)
            if len(head) < 4:
                raise MalformedInput(f"member {member.name!r}: truncated lzma header", offset=start)
            props_len = struct.unpack_from("<H", head, 2)[0]
            props = self.src.read_at(start + 4, props_len)
            try:
                return start + 4 + props_len, raw_lzma1_inflater(props, self.limits.max_decoder_memory)
            except (lzma.LZMAError, ValueError) as exc:
                raise MalformedInput(f"member {member.name!r}: bad lzma properties ({exc})", offset=start) from exc
        raise UnsupportedCompression(member)

    def check_bomb(self, member: ZipMember) -> None:
        """``LimitExceeded`` when the directory itself announces a bomb (its compression ratio).

        A large declared size alone is not a bomb (a big compressed array whose header is all we
        read); whole reads are bounded by ``max_decompressed_bytes`` in ``read``.
        """
        if member.method == STORED:
            return
        ratio = self.limits.max_compression_ratio
        if member.size > RATIO_FLOOR and member.size > ratio * max(member.compressed_size, 1):
            raise LimitExceeded(
                f"member {member.name!r} compression ratio", ratio, member.size // max(member.compressed_size, 1)
            )

    def read(self, member: ZipMember, max_bytes: int | None = None) -> bytes:
        """The member's content (or its first ``max_bytes``), decompressed within the limits."""
        self.check_bomb(member)
        if member.flags & FLAG_STRONG_ENCRYPTION and member.flags & FLAG_ENCRYPTED:
            raise EncryptedMember(member, "strong encryption")
        stored_head = member.method == STORED and max_bytes is not None and max_bytes <= MAX_PREFETCH
        start = self.data_offset(member, prefetch=max_bytes if stored_head and max_bytes else 0)
        head = self._heads.pop(member.header_offset, None)
        if stored_head and max_bytes is not None and head is not None:
            if len(head) >= min(max_bytes, member.compressed_size):
                return head[:max_bytes]
        limit = self.limits.max_decompressed_bytes
        if max_bytes is None and member.size > limit:
            raise LimitExceeded(f"member {member.name!r} size", limit, member.size)
        offset, inflater = self._factory(member, start)
        length = member.compressed_size - (offset - start)
        try:
            if inflater is None:
                data = self.src.read_at(offset, length if max_bytes is None else min(length, max_bytes))
                complete = True
            else:
                first = 4096 if max_bytes is not None and max_bytes <= 4096 else 256 * 1024
                result = inflate(
                    source_chunks(self.src, offset, length, first=first),
                    lambda: inflater,
                    limit=max(0, limit - self._decompressed_total),
                    ratio=self.limits.max_compression_ratio,
                    want=max_bytes,
                    what=f"member {member.name!r} decompressed",
                )
                data, complete = result.data, result.complete or result.truncated_output
                self._decompressed_total += len(data)
                if result.error is not None and not result.truncated_output:
                    raise MalformedInput(result.error)
        except MalformedInput as exc:
            if member.flags & FLAG_ENCRYPTED:
                raise EncryptedMember(member, "its data does not decompress") from exc
            raise MalformedInput(f"member {member.name!r}: {exc}", offset=start) from exc
        if max_bytes is not None:
            return data
        self._check_whole(member, data, complete, start)
        return data

    def decompression_left(self) -> int:
        """Bytes the archive's members may still decompress to (shared by all its members)."""
        return self.limits.max_decompressed_bytes - self._decompressed_total

    def read_prefix(self, member: ZipMember) -> tuple[bytes, LimitExceeded | None]:
        """What a loader streaming a bomb member gets before the limit: (output, the limit hit or None).

        No directory check: the directory of a bomb is what made the caller ask. Output is bounded by
        ``max_decompressed_bytes`` (less what earlier members used) and the compression ratio.
        """
        start = self.data_offset(member)
        offset, inflater = self._factory(member, start)
        length = member.compressed_size - (offset - start)
        limit = max(0, self.limits.max_decompressed_bytes - self._decompressed_total)
        if inflater is None:
            data = self.src.read_at(offset, min(length, limit))
            return data, None if length <= limit else LimitExceeded(f"member {member.name!r} size", limit, length)
        result = inflate(
            source_chunks(self.src, offset, length),
            lambda: inflater,
            limit=limit,
            ratio=self.limits.max_compression_ratio,
            what=f"member {member.name!r} decompressed",
            keep_partial=True,
        )
        self._decompressed_total += len(result.data)
        return result.data, result.limit

    def _check_whole(self, member: ZipMember, data: bytes, complete: bool, start: int) -> None:
        crc_ok = (zlib.crc32(data) & 0xFFFFFFFF) == member.crc
        if member.flags & FLAG_ENCRYPTED:
            if not complete or not crc_ok:
                raise EncryptedMember(member, "its data does not match the stored checksum")
            self._note(
                "encrypted-flag",
                f"member {member.name!r} is flagged encrypted but holds plain data: strict readers refuse it, lenient loaders read it",
                member.name,
            )
        if not complete:
            raise MalformedInput(f"member {member.name!r}: compressed data ends before the end of stream", offset=start)
        if len(data) != member.size:
            self._note(
                "size-mismatch",
                f"member {member.name!r} holds {len(data)} bytes, the directory says {member.size}",
                member.name,
            )
        if not crc_ok:
            self._note(
                "bad-crc",
                f"member {member.name!r} fails its CRC-32 check: Python's zipfile refuses it, torch reads it",
                member.name,
            )
