#!/usr/bin/env python3
"""Helpers for scripts/demo-flow.sh (standard library only).

  flow_grid.py grid GRID.csv
      writes the 200 x 200 grid points over [-1.5, 2.5] x [-1, 1.5], row-major
      from the top row (largest y) down.
  flow_grid.py png DATA.csv LOGPROB.csv SAMPLES.csv OUT.png
      draws three 200 x 200 panels side by side: a histogram of the data, the
      density exp(log p) on the grid, and a histogram of the samples (each
      scaled to its own maximum; darker is more)."""
import math
import struct
import sys
import zlib

N = 200
X0, X1, Y0, Y1 = -1.5, 2.5, -1.0, 1.5


def centres():
    for r in range(N):
        y = Y1 - (r + 0.5) * (Y1 - Y0) / N
        for c in range(N):
            yield X0 + (c + 0.5) * (X1 - X0) / N, y


def read_rows(path):
    with open(path) as f:
        return [[float(v) for v in line.split(",")] for line in f if line.strip()]


def histogram(rows):
    h = [0.0] * (N * N)
    for x, y in rows:
        c = int((x - X0) / (X1 - X0) * N)
        r = int((Y1 - y) / (Y1 - Y0) * N)
        if 0 <= c < N and 0 <= r < N:
            h[r * N + c] += 1
    return h


def panel_pixels(values):
    top = max(values) or 1.0
    return [255 - int(round(255 * min(v / top, 1.0))) for v in values]


def write_png(path, width, height, pixels):
    raw = b"".join(b"\0" + bytes(pixels[r * width:(r + 1) * width]) for r in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    if sys.argv[1] == "grid":
        with open(sys.argv[2], "w") as f:
            for x, y in centres():
                f.write(f"{x:.6f},{y:.6f}\n")
        return
    data, lp, samples, out = sys.argv[2:6]
    density = [math.exp(r[0]) for r in read_rows(lp)]
    panels = [panel_pixels(histogram(read_rows(data))), panel_pixels(density),
              panel_pixels(histogram(read_rows(samples)))]
    gap = 4
    width = 3 * N + 2 * gap
    pixels = []
    for r in range(N):
        row = []
        for i, p in enumerate(panels):
            if i:
                row += [128] * gap
            row += p[r * N:(r + 1) * N]
        pixels += row
    write_png(out, width, N, pixels)


if __name__ == "__main__":
    main()
