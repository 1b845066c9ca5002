#!/usr/bin/env python3
"""Writes the PNG fixtures for ImagingTests with a PNG encoder of its own (zlib + struct, no libpng),
so the decoder is checked against files it did not make. Run once from this folder; the files are
committed. Every picture is 13x9 (odd sizes exercise Adam7's partial passes) and its samples follow
the formulas below, which PNGFixtureTests repeats."""

import struct
import zlib

W, H = 13, 9


def red(x, y):
    return (x * 19 + y * 7) % 256


def green(x, y):
    return (x * 5 + y * 23) % 256


def blue(x, y):
    return (x * y * 11) % 256


def alpha(x, y):
    return (x * 20 + y * 3) % 256


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Samples of one row as bytes at `depth` bits each (1, 2, 4, 8 or 16)."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write(name, color_type, depth, pixel, extra=b"", interlaced=False):
    """pixel(x, y) returns the tuple of samples of one pixel."""
    def scan(xs, ys):
        raw = bytearray()
        for y in ys:
            raw.append(0)  # filter type None
            raw += pack_row([s for x in xs for s in pixel(x, y)], depth)
        return raw

    if interlaced:
        raw = bytearray()
        for x0, y0, dx, dy in ADAM7:
            xs, ys = list(range(x0, W, dx)), list(range(y0, H, dy))
            if xs and ys:
                raw += scan(xs, ys)
    else:
        raw = scan(range(W), range(H))
    header = struct.pack(">IIBBBBB", W, H, depth, color_type, 0, 0, 1 if interlaced else 0)
    with open(name, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra
                + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


PALETTE = [(200, 30, 40), (20, 180, 60), (10, 40, 220), (250, 250, 250)]
PALETTE_ALPHA = [255, 128, 0]  # the fourth entry is opaque (tRNS may be shorter than PLTE)

write("gray8.png", 0, 8, lambda x, y: (red(x, y),))
write("gray1.png", 0, 1, lambda x, y: ((x + y) % 2,))
write("gray16.png", 0, 16, lambda x, y: (red(x, y) * 257,))
write("gray-alpha8.png", 4, 8, lambda x, y: (red(x, y), alpha(x, y)))
write("rgb8.png", 2, 8, lambda x, y: (red(x, y), green(x, y), blue(x, y)))
write("rgb16.png", 2, 16, lambda x, y: (red(x, y) * 257, green(x, y) * 257, blue(x, y) * 257))
write("rgba8.png", 6, 8, lambda x, y: (red(x, y), green(x, y), blue(x, y), alpha(x, y)))
write("palette4-trns.png", 3, 4, lambda x, y: ((x + 2 * y) % 4,),
      extra=chunk(b"PLTE", bytes(c for rgb in PALETTE for c in rgb)) + chunk(b"tRNS", bytes(PALETTE_ALPHA)))
write("rgb8-interlaced.png", 2, 8, lambda x, y: (red(x, y), green(x, y), blue(x, y)), interlaced=True)
write("gray-alpha16-interlaced.png", 4, 16, lambda x, y: (red(x, y) * 257, alpha(x, y) * 257), interlaced=True)
