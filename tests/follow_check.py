#!/usr/bin/env python3
"""Checks of ptyroi --follow (tests/follow_test.sh).

  follow_check.py poll SUMMARY.json LOG [--timeout S]
      Reads SUMMARY every 10 ms, as a beamline display would, until its "follow" state is done or
      failed (or S seconds pass). Every version seen must be whole JSON (the file is replaced by
      rename: a reader never sees half of it). Writes "<unix time> <frames_done> <state> <updates>
      <roi_frames>" to LOG at each change.
  follow_check.py updates LOG MIN
      At least MIN live updates with a RoI ("following") were seen, frames_done never decreased and
      increased at least MIN - 1 times among them, and the last state is done.
  follow_check.py same A.h5 B.h5
      Every dataset of A and B bitwise the same (same names, types, shapes and bytes), and every
      attribute but timings and the rank count.
  follow_check.py latency WRITER_LOG POLL_LOG
      For each release of the writer ("<unix time> <frames>"), how long until a live summary shows
      those frames done: prints the median and the largest.
"""
import json
import os
import sys
import time

import numpy as np


def poll(summary, log, timeout):
    end = time.time() + timeout
    last = None
    versions = 0
    with open(log, "w") as out:
        while time.time() < end:
            try:
                with open(summary, "rb") as f:
                    text = f.read()
            except FileNotFoundError:
                time.sleep(0.01)
                continue
            if text != last:
                last = text
                versions += 1
                try:
                    state = json.loads(text)
                except ValueError as error:
                    print("poll: %s is not whole JSON (%s): %r" % (summary, error, text[:200]))
                    return 1
                follow = state.get("follow") or {}
                out.write("%.6f %d %s %d %s\n" % (time.time(), follow.get("frames_done", -1), follow.get("state"),
                                                  follow.get("updates", -1), state.get("roi_frames")))
                out.flush()
                if follow.get("state") in ("done", "failed"):
                    print("poll: %d versions of %s read, all whole" % (versions, summary))
                    return 0
            time.sleep(0.01)
    print("poll: %s did not reach the state done within %s s" % (summary, timeout))
    return 1


def updates(log, minimum):
    rows = [line.split() for line in open(log)]
    problems = []
    done = [int(r[1]) for r in rows]
    if any(b < a for a, b in zip(done, done[1:])):
        problems.append("frames_done decreased: %s" % done)
    live = [r for r in rows if r[2] == "following" and r[4] != "None"]
    counts = sorted(set(int(r[1]) for r in live))
    if len(live) < minimum or len(counts) < minimum:
        problems.append("%d live summaries with a RoI (%d frame counts: %s); expected at least %d" %
                        (len(live), len(counts), counts, minimum))
    if not rows or rows[-1][2] != "done":
        problems.append("the last state is %s, not done" % (rows[-1][2] if rows else "none"))
    for p in problems:
        print("updates: FAILED " + p)
    if not problems:
        print("updates: %d live summaries with a RoI, frames_done %s, then done" % (len(live), counts))
    return 1 if problems else 0


def same(a, b):
    import h5py
    fa, fb = h5py.File(a, "r"), h5py.File(b, "r")
    names_a, names_b = [], []
    fa.visit(names_a.append)
    fb.visit(names_b.append)
    problems = []
    if names_a != names_b:
        problems.append("objects differ: %s" % sorted(set(names_a) ^ set(names_b)))
    datasets = 0
    for name in names_a:
        if name not in fb:
            continue
        oa, ob = fa[name], fb[name]
        if isinstance(oa, h5py.Dataset):
            datasets += 1
            va, vb = np.asarray(oa[()]), np.asarray(ob[()])
            if oa.dtype != ob.dtype or va.shape != vb.shape or va.tobytes() != vb.tobytes():
                problems.append("dataset %s differs" % name)
        for key in oa.attrs:
            if key.startswith("time_") or key == "ranks":
                continue
            if key not in ob.attrs or np.asarray(oa.attrs[key]).tobytes() != np.asarray(ob.attrs[key]).tobytes():
                problems.append("attribute %s of %s differs" % (key, name))
    for p in problems:
        print("same: FAILED %s vs %s: %s" % (a, b, p))
    if not problems:
        print("same: %s and %s: %d datasets bitwise the same" % (a, b, datasets))
    return 1 if problems else 0


def latency(writer_log, poll_log):
    releases = [tuple(map(float, line.split()[:2])) for line in open(writer_log) if line.strip()]
    seen = [(float(r[0]), int(r[1])) for r in (line.split() for line in open(poll_log))]
    delays = []
    for t, frames in releases:
        after = [s for s, n in seen if n >= frames and s >= t]
        if after:
            delays.append(after[0] - t)
    if not delays:
        print("latency: no release seen")
        return 1
    delays.sort()
    print("latency: %d releases, median %.3f s, largest %.3f s from a frame's release to the live summary" %
          (len(delays), delays[len(delays) // 2], delays[-1]))
    return 0


def main():
    command = sys.argv[1]
    if command == "poll":
        timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 120.0
        return poll(sys.argv[2], sys.argv[3], timeout)
    if command == "updates":
        return updates(sys.argv[2], int(sys.argv[3]))
    if command == "same":
        return same(sys.argv[2], sys.argv[3])
    if command == "latency":
        return latency(sys.argv[2], sys.argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
