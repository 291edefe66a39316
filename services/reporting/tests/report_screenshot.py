#!/usr/bin/env python3
"""Opens a weekly report in headless Chromium and checks its charts are drawn.

Usage: report_screenshot.py REPORT.html SCREENSHOT.png

Runs Chromium twice on the file with the same window: once to dump the DOM
(the report records where each chart's canvas is in `data-charts` on its
body once it has drawn them), once for a screenshot. Then, in each canvas
area of the screenshot, counts the coloured pixels (data series; axes, grid
and text are grey). Exits 0 when every chart has enough of them, 1
otherwise, printing the counts either way.
"""
import json
import re
import shutil
import struct
import subprocess
import sys
import zlib

WINDOW = "1200,1500"
MIN_COLOURED = 150


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium on the PATH (Debian package chromium; ./flywheel deps installs it)")


def run(*args):
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--force-device-scale-factor=1", "--hide-scrollbars",
               "--window-size=" + WINDOW, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def read_png(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, colour = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def main():
    report, screenshot = sys.argv[1], sys.argv[2]
    url = "file://" + report
    dom = run("--dump-dom", url)
    found = re.search(r'data-charts="([^"]*)"', dom.stdout)
    if not found:
        print("the report recorded no charts; chromium said:", dom.stderr[-2000:])
        return 1
    charts = json.loads(found.group(1).replace("&quot;", '"'))
    shot = run("--screenshot=" + screenshot, url)
    try:
        width, height, rows, bpp = read_png(screenshot)
    except (OSError, AssertionError) as error:
        print("no screenshot:", error, shot.stderr[-2000:])
        return 1
    ok = len(charts) == 6
    for chart in charts:
        coloured = 0
        x0, y0 = int(chart["x"]), int(chart["y"])
        x1, y1 = min(width, x0 + int(chart["w"])), min(height, y0 + int(chart["h"]))
        for y in range(max(0, y0), y1):
            line = rows[y]
            for x in range(max(0, x0), x1):
                r, g, b = line[x * bpp], line[x * bpp + 1], line[x * bpp + 2]
                coloured += max(r, g, b) - min(r, g, b) > 60
        drawn = coloured >= MIN_COLOURED
        ok = ok and drawn
        print(f"{chart['id']}: {coloured} coloured pixels in {x1 - x0}x{y1 - y0} "
              f"at ({x0}, {y0}): {'drawn' if drawn else 'NOT DRAWN'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
