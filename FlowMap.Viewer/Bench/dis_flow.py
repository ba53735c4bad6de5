#!/usr/bin/env python3
"""OpenCV DIS optical flow anchor for `flowmap bench flow`.

Reads lines "A B OUT_PREFIX" from stdin (image paths and an output prefix), runs DIS with the ULTRAFAST, FAST and
MEDIUM presets on every pair, writes OUT_PREFIX.<preset>.flo (Middlebury .flo) and prints one JSON line per pair:
{"a": A, "b": B, "ms": {"ultrafast": [..], ...}} with the time of the flow call only (grayscale conversion and file
I/O excluded), repeated --repeats times after one warm-up call, and "cpu_ms": the process CPU time per call (all threads).
OpenCV runs with --threads threads.
"""
import argparse, json, resource, sys, time
import numpy as np
import cv2

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def write_flo(path, flow):
    h, w = flow.shape[:2]
    with open(path, "wb") as f:
        f.write(b"PIEH")
        np.array([w, h], dtype=np.int32).tofile(f)
        flow.astype(np.float32).tofile(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    dis = {k: cv2.DISOpticalFlow_create(v) for k, v in PRESETS.items()}
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3:
            continue
        a, b, out = parts
        ia, ib = cv2.imread(a, cv2.IMREAD_GRAYSCALE), cv2.imread(b, cv2.IMREAD_GRAYSCALE)
        if ia is None or ib is None:
            print(json.dumps({"a": a, "b": b, "error": "cannot read image"}), flush=True)
            continue
        times, cpu = {}, {}
        for name, d in dis.items():
            flow = d.calc(ia, ib, None)  # warm-up
            ms = []
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                flow = d.calc(ia, ib, None)
                ms.append((time.perf_counter() - t0) * 1000.0)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            write_flo(f"{out}.{name}.flo", flow)
            times[name] = ms
            cpu[name] = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000.0 / args.repeats
        print(json.dumps({"a": a, "b": b, "ms": times, "cpu_ms": cpu}), flush=True)


if __name__ == "__main__":
    main()
