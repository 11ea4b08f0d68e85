#!/usr/bin/python3
"""Prints the largest absolute difference between two tools/train
checkpoints' parameters ("max_abs_diff 0" when bit-identical); fails when
their parameter names or shapes differ."""

import sys

import torch


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: ckpt_diff.py A.pt B.pt")
    a, b = (torch.load(p, map_location="cpu")["model"] for p in sys.argv[1:])
    if sorted(a) != sorted(b):
        raise SystemExit("ckpt_diff: different parameters: %s" % sorted(set(a) ^ set(b)))
    worst = 0.0
    for k in a:
        if a[k].shape != b[k].shape:
            raise SystemExit("ckpt_diff: %s: shapes %s and %s" % (k, tuple(a[k].shape), tuple(b[k].shape)))
        if a[k].numel():
            worst = max(worst, (a[k].double() - b[k].double()).abs().max().item())
    print("max_abs_diff %g" % worst)


if __name__ == "__main__":
    main()
