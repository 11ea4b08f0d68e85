#!/usr/bin/python3
"""Fits the task router of a finished tools/train checkpoint (what train.py
does at the end of every MoE stage, see train.fit_task_router) and writes
the checkpoint back with the fit recorded in its meta:

    /usr/bin/python3 tools/train/fit_router.py RUN/s2/final.pt --data DATA [--steps 300]

For checkpoints trained before train.py fitted the router itself."""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import model as M  # noqa: E402
import train as T  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    ck = torch.load(a.checkpoint, map_location="cpu")
    m = M.CTLens(ck["cfg"])
    m.load_state_dict(ck["model"])
    if not m.has_moe:
        raise SystemExit("fit_router: %s has no TGH-MoE" % a.checkpoint)
    acc = T.fit_task_router(m, D.Dataset(a.data, "train", "samples"), a.steps)
    ck["model"] = m.state_dict()
    ck.setdefault("meta", {})["router_fit"] = {"steps": a.steps, "train_acc": acc}
    T.save(a.checkpoint, ck)
    print("fit_router: %s: training prompts routed right %s" % (a.checkpoint, acc))


if __name__ == "__main__":
    main()
