import Foundation
import BouncerTestSupport

/// Archives crafted at test time with Python's tarfile and zipfile, written
/// once per test run into a temporary directory, removed when the run ends.
enum ArchiveFixtures {
    /// An absolute path that hostile archives aim at; it must never appear.
    static let absoluteTarget = "/tmp/bouncer-abs-evil-\(UUID().uuidString)"
    /// A directory outside every destination that `write-through-escaping-symlink.tar`
    /// links to and then writes into (a test creates it to see that nothing lands there).
    static let outsideDirectory = "/tmp/bouncer-outside-\(UUID().uuidString)"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: URL?

    static func directory() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let dir = try BouncerProcess.runScopedDirectory("bouncer-archive-fixtures")
        try runPython(script, arguments: [dir.path, absoluteTarget, outsideDirectory])
        built = dir
        return dir
    }

    static func path(_ name: String) throws -> String {
        try directory().appendingPathComponent(name).path
    }

    /// Runs a Python script (text) with arguments; throws with its stderr on failure.
    static func runPython(_ script: String, arguments: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-fixture-\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", file.path] + arguments)
        guard result.status == 0 else {
            throw FixtureError(message: "python3 failed (\(result.status)): \(result.err)")
        }
    }

    struct FixtureError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static let script = #"""
import io, os, sys, tarfile, zipfile
out, absolute, outside = sys.argv[1], sys.argv[2], sys.argv[3]
os.chdir(out)

def member(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, link, mode, 1700000000
    if kind == tarfile.REGTYPE:
        info.size = len(data)
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)

def tar(name, members, fmt=tarfile.PAX_FORMAT, mode="w"):
    with tarfile.open(name, mode, format=fmt) as t:
        for info, data in members:
            t.addfile(info, data)

F, D, S, H = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
# Hostile tar archives: each one holds a harmless entry first, so that a
# refusal must also remove what was already unpacked.
def ok():
    return member("ok.txt", data=b"fine\n")
tar("absolute.tar", [ok(), member(absolute, data=b"evil")])
tar("dotdot.tar", [ok(), member("../evil", data=b"evil")])
tar("nested-dotdot.tar", [ok(), member("a/b/../../../evil", data=b"evil")])
tar("symlink-absolute.tar", [ok(), member("etc", S, link="/etc")])
tar("symlink-relative-escape.tar", [ok(), member("d/up", S, link="../../..")])
tar("write-through-symlink.tar", [ok(), member("up", S, link="."), member("up/evil", data=b"evil")])
tar("write-through-escaping-symlink.tar", [ok(), member("out", S, link=outside), member("out/evil", data=b"evil")])
tar("symlink-through-symlink.tar", [ok(), member("d/sub", S, link=".."), member("esc", S, link="d/sub/../..")])
tar("symlink-made-later.tar", [ok(), member("esc", S, link="d/s/../.."), member("d/s", S, link="..")])
tar("hardlink-absolute.tar", [ok(), member("passwd", H, link="/etc/passwd")])
tar("hardlink-dotdot.tar", [ok(), member("x", H, link="../outside")])
tar("hardlink-unknown.tar", [ok(), member("x", H, link="not-in-archive")])
tar("hardlink-to-symlink.tar", [ok(), member("l", S, link="ok.txt"), member("x", H, link="l")])
# The symlink stays inside (sub/d -> the root), but a hardlink through it is not to "a file unpacked earlier".
tar("hardlink-through-symlinked-dir.tar", [ok(), member("x", data=b"x"), member("sub/d", S, link=".."), member("y", H, link="sub/d/x")])
# The same with the symlink at the top (d -> ..), which already leaves DIR.
tar("hardlink-through-escaping-dir.tar", [ok(), member("d", S, link=".."), member("y", H, link="d/x")])
tar("chardev.tar", [ok(), member("null", tarfile.CHRTYPE)])
tar("blockdev.tar", [ok(), member("sda", tarfile.BLKTYPE)])
tar("fifo.tar", [ok(), member("pipe", tarfile.FIFOTYPE)])
tar("duplicate.tar", [ok(), member("package/package.json", data=b"{}"), member("package/package.json", data=b"{\"scripts\":{}}")])
tar("duplicate-dir-then-file.tar", [ok(), member("a/b", data=b"1"), member("a", data=b"2")])
tar("case-collision.tar", [ok(), member("README", data=b"1"), member("readme", data=b"2")])
tar("backslash.tar", [ok(), member("..\\evil", data=b"evil")])
tar("many.tar", [member("f%03d" % i, data=b"x") for i in range(50)])
tar("big.tar", [member("a", data=b"a" * 300000), member("b", data=b"b" * 300000)])

# Wider than the extractor's descriptor cache, with hardlinks across it.
# (The extra directory makes the cache fill up between a link's two directories.)
tar("wide.tar", [member("d%03d/f" % i, data=b"%d" % i) for i in range(300)] + [member("extra/x", data=b"x")]
    + [member("d%03d/link" % i, H, link="d%03d/f" % (299 - i)) for i in range(300)])

# A lone zero block ends the tar for libarchive; npm's and yarn's readers read on to the second package.json.
import gzip
def blocks(name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
    return info.tobuf(format=tarfile.USTAR_FORMAT) + data + b"\0" * (-len(data) % 512)
open("zero-block-hides.tgz", "wb").write(gzip.compress(blocks("package/package.json", b'{"name":"a","version":"1.0.0"}') + b"\0" * 512
    + blocks("package/package.json", b'{"name":"a","version":"1.0.0","scripts":{"postinstall":"x"}}') + b"\0" * 1024, mtime=0))

# A pax global header: node-tar and Python's tarfile apply its size= (path=) to later entries, libarchive ignores it.
def pax_global(**fields):
    info = tarfile.TarInfo("pax_global_header")
    info.type = tarfile.XGLTYPE
    return info._create_pax_generic_header(fields, tarfile.XGLTYPE, "utf-8")
open("pax-global-size.tgz", "wb").write(gzip.compress(pax_global(size="1024") + blocks("package/package.json", b'{"name":"a","version":"1.0.0"}')
    + b"\0" * 1024, mtime=0))
open("pax-global-later.tar", "wb").write(blocks("package/package.json", b'{"name":"a","version":"1.0.0"}')
    + pax_global(comment="fine", path="package/package.json") + blocks("package/index.js", b"") + b"\0" * 1024)
# What git archive writes: a global header with a comment only.
with tarfile.open("pax-global-comment.tar", "w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "0123abcd"}) as t:
    info, data = member("package/package.json", data=b'{"name":"a","version":"1.0.0"}')
    t.addfile(info, data)

# Headers node-tar rejects (and steps over by one block) or reads otherwise, hiding a second
# package.json as a README's data: a link name on a file, a signed-only checksum, pax records
# with a newline inside one, a volume header with a size (red team).
def recksum(h, signed=False):
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum((b - 256 if signed and b > 127 else b) for b in h)
    return h
hidden = blocks("package/package.json", b'{"name":"a","version":"1.0.0","scripts":{"postinstall":"x"}}')
def diverging(variant):
    if variant == "linkpath":
        h = bytearray(blocks("package/README", b"")); h[124:136] = b"%011o\0" % len(hidden); h[157:160] = b"abc"; recksum(h)
        rest = bytes(h) + hidden
    elif variant == "signedck":
        h = bytearray(blocks("package/README", b"")); h[124:136] = b"%011o\0" % len(hidden); h[500] = 0xff; recksum(h, signed=True)
        rest = bytes(h) + hidden
    elif variant == "paxnl":
        body = b"22 comment=x\n9 size=1\n"  # one record by its length; node-tar's lines find size=1
        assert len(body) == 22
        info = tarfile.TarInfo("PaxHeader"); info.type = tarfile.XHDTYPE; info.size = len(body)
        readme = bytearray(blocks("package/README", b"")); readme[124:136] = b"%011o\0" % (512 + len(hidden)); recksum(readme)
        rest = info.tobuf(format=tarfile.USTAR_FORMAT) + body + b"\0" * (-len(body) % 512) + bytes(readme) + b"R" + b"\0" * 511 + hidden
    elif variant == "linksize":
        # node-tar skips a symlink's stated size; libarchive reads a README header there, whose data hides the rest.
        link = bytearray(blocks("package/l", b"")); link[156:157] = b"2"; link[157:160] = b"abc"; link[124:136] = b"%011o\0" % 1024; recksum(link)
        readme = bytearray(blocks("package/README", b"")); readme[124:136] = b"%011o\0" % (512 + len(hidden)); recksum(readme)
        rest = bytes(link) + bytes(readme) + b"R" * 512 + hidden
    elif variant == "nulname":
        # node-tar reads the name on past the NUL to "x\n/package.json"; libarchive reads "x".
        h = bytearray(blocks("x", b"")); h[0:100] = b"x\0\n/package.json".ljust(100, b"\0"); recksum(h)
        rest = bytes(h)
    elif variant == "longnul":
        body = b"package/README\0\xe2\x80\xa8x\0"  # U+2028 after the NUL
        info = tarfile.TarInfo("././@LongLink"); info.type = tarfile.GNUTYPE_LONGNAME; info.size = len(body)
        rest = info.tobuf(format=tarfile.GNU_FORMAT) + body + b"\0" * (-len(body) % 512) + blocks("package/R", b"")
    elif variant in ("paxzero", "paxoctal", "paxemptypath", "paxutf8", "solariszero"):
        # node-tar drops a pax size of 0 and an empty path (`|| null`), parses "0512" otherwise, and
        # decodes a non-ASCII path chunk by chunk (a cut character drops it for the header's name).
        # Solaris's 'X' header is a pax header to every reader.
        fields = {"paxzero": {"size": "0"}, "paxoctal": {"size": "0512"}, "paxemptypath": {"path": ""},
                  "paxutf8": {"path": "package/\u00e9t\u00e9.txt"}, "solariszero": {"size": "0"}}[variant]
        kind = b"X" if variant == "solariszero" else tarfile.XHDTYPE
        pax = tarfile.TarInfo("PaxHeader")._create_pax_generic_header(fields, kind, "utf-8")
        # (The data is a header: libarchive, taking a size of 0, reads it as the next entry's.)
        rest = pax + blocks("package/index.js", blocks("package/notes.txt", b""))
    elif variant in ("paxlong", "longpax"):
        # A pax path and a GNU long name for one entry: libarchive keeps the first, node-tar the last.
        pax = tarfile.TarInfo("PaxHeader")._create_pax_generic_header({"path": "package/notes.txt"}, tarfile.XHDTYPE, "utf-8")
        body = b"package/package.json\0"
        info = tarfile.TarInfo("././@LongLink"); info.type = tarfile.GNUTYPE_LONGNAME; info.size = len(body)
        long = info.tobuf(format=tarfile.GNU_FORMAT) + body + b"\0" * (-len(body) % 512)
        rest = (pax + long if variant == "paxlong" else long + pax) + blocks("package/x", b"{}")
    elif variant == "contigslash":
        # libarchive makes any path ending in '/' a folder with no data; node-tar keeps a '7' entry's.
        h = bytearray(blocks("package/foo/", b"")); h[156:157] = b"7"; h[124:136] = b"%011o\0" % len(hidden); recksum(h)
        rest = bytes(h) + hidden
    elif variant in ("paxdirsize", "paxpax"):
        # A pax size on a folder (libarchive skips it as data, node-tar takes 0), or before another
        # pax header (node-tar reads that header's records by it).
        pax = tarfile.TarInfo("PaxHeader")._create_pax_generic_header({"size": "512"}, tarfile.XHDTYPE, "utf-8")
        if variant == "paxdirsize":
            d = bytearray(blocks("package/lib/", b"")); d[156:157] = b"5"; recksum(d)
            rest = pax + bytes(d) + b"\0" * 511 + b"x" + blocks("package/R", b"")
        else:
            second = tarfile.TarInfo("PaxHeader")._create_pax_generic_header({"path": "package/README"}, tarfile.XHDTYPE, "utf-8")
            rest = pax + second + blocks("package/R", b"x" * 512)
    elif variant == "acl":
        # libarchive carries a pax header on past a Solaris ACL header; node-tar spends it there.
        h = bytearray(blocks("package/ACL", b"")); h[156:157] = b"A"; recksum(h)
        rest = bytes(h) + blocks("package/R", b"")
    elif variant == "sizeplus":
        # node-tar's parseInt takes the sign; libarchive stops at it and reads 0.
        h = bytearray(blocks("package/README", b"")); h[124:136] = b"+0000001000\0"; recksum(h)
        rest = bytes(h) + hidden
    elif variant == "sparse":
        h = bytearray(blocks("package/S", b"")); h[156:157] = b"S"; recksum(h)
        rest = bytes(h)
    else:
        v = bytearray(blocks("package/VOL", b"")); v[156:157] = b"V"; v[124:136] = b"%011o\0" % 512; recksum(v)
        readme = bytearray(blocks("package/README", b"")); readme[124:136] = b"%011o\0" % len(hidden); recksum(readme)
        rest = bytes(v) + bytes(readme) + hidden
    return blocks("package/package.json", b'{"name":"a","version":"1.0.0"}') + rest + b"\0" * 1024
# A pax header marking a GNU sparse file (libarchive places its data by the map, node-tar writes it as stored).
sparse_pax = tarfile.TarInfo("package/S")._create_pax_generic_header({"GNU.sparse.size": "0", "GNU.sparse.numblocks": "1", "GNU.sparse.map": "0,0"}, tarfile.XHDTYPE, "utf-8")
open("diverging-paxsparse.tgz", "wb").write(gzip.compress(blocks("package/package.json", b'{"name":"a","version":"1.0.0"}') + sparse_pax
    + blocks("package/S", b"") + b"\0" * 1024, mtime=0))
for variant in ("linkpath", "signedck", "paxnl", "volhdr", "linksize", "nulname", "longnul", "sparse",
                "paxzero", "paxoctal", "paxemptypath", "paxutf8", "solariszero", "acl", "sizeplus",
                "paxlong", "longpax", "contigslash", "paxdirsize", "paxpax"):
    open("diverging-%s.tgz" % variant, "wb").write(gzip.compress(diverging(variant), mtime=0))
# What Python's tarfile writes for a long name beyond ASCII: a pax path, the header's name cut short (an sdist).
with tarfile.open("pax-long-nonascii.tar.gz", "w:gz", format=tarfile.PAX_FORMAT) as t:
    info, data = member("pkg-1.0/PKG-INFO", data=b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
    t.addfile(info, data)
    info, data = member("pkg-1.0/" + "\u00e9" * 80 + "/x.txt", data=b"x")
    t.addfile(info, data)
# What npm pack writes: ustar headers under package/, a pax header for a long name, gzip.
npm_members = [member("package/package.json", data=b'{"name":"a","version":"1.0.0"}'), member("package/lib/", D),
               member("package/lib/" + "n" * 120 + ".js", data=b"module.exports = 1\n")]
tar("npm-pack-style.tar", npm_members)
# A name beyond ASCII as node-tar writes it: a pax path, and the same UTF-8 bytes in the header's name.
def node_style(name, data):
    pax = tarfile.TarInfo("PaxHeader")._create_pax_generic_header({"path": name}, tarfile.XHDTYPE, "utf-8")
    entry = bytearray(blocks("x", data))
    entry[0:100] = name.encode().ljust(100, b"\0")
    entry[0:512] = recksum(entry[0:512])
    return pax + bytes(entry)
packed = open("npm-pack-style.tar", "rb").read().rstrip(b"\0")
packed += b"\0" * (-len(packed) % 512)
open("npm-pack-style.tgz", "wb").write(gzip.compress(packed + node_style("package/l\u00e9ame.md", b"x") + b"\0" * 1024, mtime=0))

tar("readonly.tar", [member("ro/", D, mode=0o555), member("ro/sub/", D, mode=0o500), member("ro/sub/f", data=b"f", mode=0o444)])

# Zip-slip and friends.
with zipfile.ZipFile("zip-slip.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr("../../evil.txt", "evil")
with zipfile.ZipFile("zip-absolute.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr(zipfile.ZipInfo(absolute), "evil")

# Made on MS-DOS (create_system 0) with a backslash and no slash in a name:
# libarchive reads "x/zz.pth", Python's zipfile (pip, uv) the top-level file "x\\zz.pth".
with zipfile.ZipFile("zip-dos-backslash.zip", "w") as z:
    for name, data in [("pkg/__init__.py", b""), ("x\\zz.pth", b"import os")]:
        info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
        info.create_system = 0
        z.writestr(info, data)
# A valid zip behind a prefix (a self-extracting stub), to check the central directory is found.
with zipfile.ZipFile("zip-inner.zip", "w") as z:
    z.writestr("a/b.txt", "b")
    z.writestr("c.txt", "c")
with open("zip-prefixed.zip", "wb") as f:
    f.write(b"#!/bin/sh\nexit 0\n" + b"\0" * 1000 + open("zip-inner.zip", "rb").read())
os.remove("zip-inner.zip")

# Zips that libarchive and Python's zipfile would read apart (see ZipStructure):
# the local header says "stored" where the central directory says "deflated";
import struct
with zipfile.ZipFile("zip-local-method.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("a.txt", "a" * 200)
data = bytearray(open("zip-local-method.zip", "rb").read())
data[8:10] = struct.pack("<H", 0)
open("zip-local-method.zip", "wb").write(bytes(data))
# two archives one after the other (Python reads the second, shifted);
with zipfile.ZipFile("zip-inner-a.zip", "w") as z:
    z.writestr("a.txt", "first")
with zipfile.ZipFile("zip-inner-b.zip", "w") as z:
    z.writestr("a.txt", "second")
open("zip-two-ends.zip", "wb").write(open("zip-inner-a.zip", "rb").read() + open("zip-inner-b.zip", "rb").read())
# a ZIP64 locator pointing elsewhere than the ZIP64 end record right before it.
inner = open("zip-inner-a.zip", "rb").read()
eocd = inner.rfind(b"PK\x05\x06")
entries, cd_size, cd_offset = struct.unpack("<HII", inner[eocd + 10:eocd + 20])
zip64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size, cd_offset)
locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 0, 1)
open("zip-zip64-locator.zip", "wb").write(inner[:eocd] + zip64 + locator + inner[eocd:])
os.remove("zip-inner-a.zip"); os.remove("zip-inner-b.zip")

# a data-descriptor entry whose local header states a harmless prefix's CRC and sizes (libarchive reads those);
import zlib
full, prefix = b"harmless\nEVIL\n", b"harmless\n"
with zipfile.ZipFile("zip-dd-sizes.zip", "w") as z:
    z.writestr("a.txt", full)
data = bytearray(open("zip-dd-sizes.zip", "rb").read())
data[6:8] = struct.pack("<H", struct.unpack("<H", data[6:8])[0] | 8)
data[14:26] = struct.pack("<III", zlib.crc32(prefix), len(prefix), len(prefix))
cd = data.rfind(b"PK\x01\x02")
data[cd + 8:cd + 10] = struct.pack("<H", struct.unpack("<H", data[cd + 8:cd + 10])[0] | 8)
open("zip-dd-sizes.zip", "wb").write(bytes(data))
# a file Python writes, made a directory by its Unix attributes for libarchive (which names it "m/METADATA/").
with zipfile.ZipFile("zip-dir-attr.zip", "w") as z:
    info = zipfile.ZipInfo("m/METADATA", (2020, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (0o040755 << 16) | 0x10
    z.writestr(info, "Requires-Dist: x @ http://h/x.tar.gz\n")

# a Unicode path extra field (0x7075) in the central directory only: Python 3.12 renames the entry, libarchive does not;
with zipfile.ZipFile("zip-unicode-path.zip", "w") as z:
    info = zipfile.ZipInfo("pkg/data.txt", (2020, 1, 1, 0, 0, 0))
    z.writestr(info, "import os\n")
data = bytearray(open("zip-unicode-path.zip", "rb").read())
cd = data.rfind(b"PK\x01\x02")
name_len, extra_len = struct.unpack("<HH", data[cd + 28:cd + 32])
extra = struct.pack("<HHBI", 0x7075, 5 + len(b"hook.pth"), 1, zlib.crc32(b"pkg/data.txt")) + b"hook.pth"
eocd = data.rfind(b"PK\x05\x06")
cd_size = struct.unpack("<I", data[eocd + 12:eocd + 16])[0]
data[cd + 30:cd + 32] = struct.pack("<H", extra_len + len(extra))
insert = cd + 46 + name_len + extra_len
data[insert:insert] = extra
eocd += len(extra)
data[eocd + 12:eocd + 16] = struct.pack("<I", cd_size + len(extra))
open("zip-unicode-path.zip", "wb").write(bytes(data))
# a deflated entry whose stated CRC and size describe only a prefix of its stream (libarchive only warns).
full, prefix = b"import os\n# reviewed: harmless\n", b"import os\n"
with zipfile.ZipFile("zip-short-size.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("a.py", full)
data = bytearray(open("zip-short-size.zip", "rb").read())
data[14:18] = struct.pack("<I", zlib.crc32(prefix)); data[22:26] = struct.pack("<I", len(prefix))
cd = data.rfind(b"PK\x01\x02")
data[cd + 16:cd + 20] = struct.pack("<I", zlib.crc32(prefix)); data[cd + 24:cd + 28] = struct.pack("<I", len(prefix))
open("zip-short-size.zip", "wb").write(bytes(data))

# A folder entry carrying bytes: libarchive reads a folder, pip reads `X.dist-info/METADATA/` as METADATA
# (its dist-info files are keyed by PurePosixPath, which drops the `/`), here one requiring a URL and one giving bin/pip.
def folder_with_bytes(name, folder, data):
    with zipfile.ZipFile(name, "w") as z:
        z.writestr("victim.py", "x = 1\n")
        z.writestr("victim-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        info = zipfile.ZipInfo(folder, (2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        z.writestr(info, data)
        z.writestr("victim-1.0.dist-info/RECORD", "")
folder_with_bytes("victim-1.0-py3-none-any.whl", "victim-1.0.dist-info/METADATA/",
                  "Metadata-Version: 2.1\nName: victim\nVersion: 1.0\nRequires-Dist: evil @ http://127.0.0.1:1/evil-1.0-py3-none-any.whl\n\n")
folder_with_bytes("victim-entry-points.zip", "victim-1.0.dist-info/entry_points.txt/", "[console_scripts]\npip = victim:main\n")
# Folders as zipfile writes them (no bytes) and as jar tools do (deflated: the 2-byte empty stream).
with zipfile.ZipFile("zip-folders.zip", "w") as z:
    z.writestr(zipfile.ZipInfo("d/", (2020, 1, 1, 0, 0, 0)), b"")
    z.writestr(zipfile.ZipInfo("META-INF/", (2020, 1, 1, 0, 0, 0)), b"", compress_type=zipfile.ZIP_DEFLATED)
    z.writestr("d/x.txt", "x")

# two dist-info folders (pip and uv refuse them; which METADATA counts would be the installer's pick).
with zipfile.ZipFile("two-dist-info.zip", "w") as z:
    z.writestr("x-1.0.dist-info/METADATA", "Name: x\n")
    z.writestr("X-1.0.dist-info/entry_points.txt", "[console_scripts]\npip = x:main\n")

# A zip symlink (Unix mode S_IFLNK in the external attributes; the data is the target).
def zip_symlink(z, name, target):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    z.writestr(info, target)
with zipfile.ZipFile("zip-symlink-escape.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    zip_symlink(z, "lib", "../../outside")
with zipfile.ZipFile("zip-symlink-absolute.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    zip_symlink(z, "etc", "/etc")

import warnings
warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, which is the point
with zipfile.ZipFile("zip-duplicate.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr("setup.py", "print('checked')")
    z.writestr("setup.py", "print('installed')")

# A zip bomb: 64 MiB of zeros deflated to ~64 KB.
with zipfile.ZipFile("zip-bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("ok.txt", "fine")
    with z.open("zeros.bin", "w") as f:
        for _ in range(64):
            f.write(bytes(1 << 20))

# Benign archives in every supported format, with the same tree.
tree = [member("top/", D, mode=0o755), member("top/hello.txt", data=b"hello\n", mode=0o644),
        member("top/run.sh", data=b"#!/bin/sh\n", mode=0o6755), member("top/sticky/", D, mode=0o1777),
        member("top/link", S, link="hello.txt"), member("top/again", H, link="top/hello.txt"),
        member("top/" + "long" * 40 + "/name.txt", data=b"long\n")]
def fresh(items):
    return [(info, io.BytesIO(data.getvalue()) if data else None) for info, data in items]
tar("tree.tar", fresh(tree))
tar("tree-gnu.tar", fresh(tree), fmt=tarfile.GNU_FORMAT)
tar("tree-ustar.tgz", fresh([m for m in tree if "long" not in m[0].name]), fmt=tarfile.USTAR_FORMAT, mode="w:gz")
tar("tree.tar.xz", fresh(tree), mode="w:xz")
tar("tree.tar.bz2", fresh(tree), mode="w:bz2")
with zipfile.ZipFile("tree.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("top/hello.txt", "hello\n")
    z.writestr("top/sub/deep.txt", "deep\n")
# ar, as in a .deb: global header, then 60-byte member headers.
def ar_member(name, data):
    header = b"%-16s%-12d%-6d%-6d%-8o%-10d`\n" % (name.encode(), 1700000000, 0, 0, 0o100644, len(data))
    return header + data + (b"\n" if len(data) % 2 else b"")
with open("tree.deb", "wb") as f:
    f.write(b"!<arch>\n" + ar_member("debian-binary", b"2.0\n") + ar_member("control.tar.gz", b"abc"))
"""#
}
