#!/usr/bin/env python3
"""An acquisition played back, for the tests of ptyroi --follow: releases a finished scan piece by
piece, with delays, as detector file writers and scan loggers do.

  follow_writer.py nexus SRC_MASTER DEST_DIR [--master upfront|grow] [--no-nimages] [--delay S]
      SRC_MASTER: a ptyroi-simulate NeXus master (PREFIX_master.h5, PREFIX_data_NNNNNN.h5,
      PREFIX_positions.csv). upfront: the master with every link (dangling until its file arrives)
      comes first, as DECTRIS writers do; grow: the master is replaced (written aside, renamed) with
      one more link after each data file. Each data file is copied in place (a reader may catch it
      half copied), then the positions of its frames are appended to the CSV, the last line in two
      writes (a reader may catch half a line).
  follow_writer.py swmr SRC_PLAIN DEST [--frames-per-step N] [--delay S]
      SRC_PLAIN: a plain ptyroi-simulate file (/data, /positions_x, /positions_y, /pixel_mask).
      DEST is written with HDF5 SWMR: the datasets grow by N frames per step (the stack first, its
      positions after), flushed after each step; the writer closes the file at the end.

Prints one line per release on stdout: "<unix time> <frames released>".
"""
import argparse
import os
import shutil
import sys
import time

import h5py
import numpy as np


def released(frames):
    print(f"{time.time():.6f} {frames}", flush=True)


def nexus(args):
    src_dir = os.path.dirname(os.path.abspath(args.source))
    name = os.path.basename(args.source)
    assert name.endswith("_master.h5"), name
    prefix = name[: -len("_master.h5")]
    os.makedirs(args.dest, exist_ok=True)
    master_dest = os.path.join(args.dest, name)
    with h5py.File(args.source, "r") as f:
        links = sorted(k for k in f["/entry/data"].keys() if k.startswith("data_"))
        files = [f["/entry/data"].get(k, getlink=True).filename for k in links]
        sizes = []
        for k in links:
            sizes.append(h5py.File(os.path.join(src_dir, f["/entry/data"].get(k, getlink=True).filename), "r")[
                "/entry/data/data"].shape[0])
    with open(os.path.join(src_dir, prefix + "_positions.csv")) as f:
        lines = f.read().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    csv_dest = os.path.join(args.dest, prefix + "_positions.csv")

    def write_master(keep):
        # Written aside and renamed: a reader opens the old master or the new one, never half of one.
        aside = master_dest + ".writing"
        shutil.copyfile(args.source, aside)
        with h5py.File(aside, "r+") as f:
            for k in links[keep:]:
                del f["/entry/data"][k]
            if args.no_nimages:
                del f["/entry/instrument/detector/detectorSpecific/nimages"]
        os.replace(aside, master_dest)

    with open(csv_dest, "w") as csv:
        csv.write(header)
    if args.master == "upfront":
        write_master(len(links))
    done = 0
    for i, (data_file, count) in enumerate(zip(files, sizes)):
        time.sleep(args.delay)
        shutil.copyfile(os.path.join(src_dir, data_file), os.path.join(args.dest, data_file))
        if args.master == "grow":
            write_master(i + 1)
        with open(csv_dest, "a") as csv:
            for row in rows[done:done + count - 1]:
                csv.write(row)
            last = rows[done + count - 1]
            csv.write(last[: len(last) // 2])
            csv.flush()
            time.sleep(min(args.delay / 4, 0.05))
            csv.write(last[len(last) // 2:])
        done += count
        released(done)


def swmr(args):
    with h5py.File(args.source, "r") as src:
        data = src["/data"]
        frames, rows, cols = data.shape
        with h5py.File(args.dest, "w", libver="latest") as f:
            stack = f.create_dataset("data", shape=(0, rows, cols), maxshape=(None, rows, cols), chunks=(1, rows, cols),
                                     dtype=data.dtype)
            xs = f.create_dataset("positions_x", shape=(0,), maxshape=(None,), chunks=(64,), dtype="f8")
            ys = f.create_dataset("positions_y", shape=(0,), maxshape=(None,), chunks=(64,), dtype="f8")
            if "pixel_mask" in src:
                f.create_dataset("pixel_mask", data=src["pixel_mask"][...])
            f.swmr_mode = True
            for first in range(0, frames, args.frames_per_step):
                time.sleep(args.delay)
                end = min(frames, first + args.frames_per_step)
                stack.resize((end, rows, cols))
                stack[first:end] = data[first:end]
                stack.flush()
                xs.resize((end,))
                ys.resize((end,))
                xs[first:end] = src["/positions_x"][first:end]
                ys[first:end] = src["/positions_y"][first:end]
                xs.flush()
                ys.flush()
                released(end)
            time.sleep(args.delay)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    n = sub.add_parser("nexus")
    n.add_argument("source")
    n.add_argument("dest")
    n.add_argument("--master", choices=["upfront", "grow"], default="upfront")
    n.add_argument("--no-nimages", action="store_true")
    n.add_argument("--delay", type=float, default=0.5)
    s = sub.add_parser("swmr")
    s.add_argument("source")
    s.add_argument("dest")
    s.add_argument("--frames-per-step", type=int, default=10)
    s.add_argument("--delay", type=float, default=0.3)
    args = parser.parse_args()
    nexus(args) if args.mode == "nexus" else swmr(args)


if __name__ == "__main__":
    sys.exit(main())
