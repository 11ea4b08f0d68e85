"""The dataset as train.py reads it (tools/dataset/FORMAT.md): volumes
(DIR/<split>/volumes.npy, float16 (N, D, H, W), normalised as meta.json's
input_norm says) and the token ids tools/dataset wrote with the engine's
own prompt builder (prompt_ids with one image slot -1, answer_ids ending
with <|end|>), so Python needs no tokenizer."""

import json
import os

import numpy as np

import model as M


def read_meta(data_dir):
    p = os.path.join(data_dir, "meta.json")
    if not os.path.exists(p):
        raise SystemExit("%s: no such file\nhint: --data must be a dataset made by `go run ./tools/dataset -out DIR`" % p)
    with open(p) as f:
        meta = json.load(f)
    if meta.get("format") != "ctlens-dataset":
        raise SystemExit("%s: format %r, want \"ctlens-dataset\"" % (p, meta.get("format")))
    return meta


def finding_labels(meta):
    """The labels of the finding probe (train.py --finding-aux): each kind
    the dataset draws (meta.findings), and each kind on each side, so the
    probe also learns where a finding is, which a report must say."""
    out = []
    for f in meta.get("findings", []):
        out += [f["kind"], f["kind"] + "@left", f["kind"] + "@right"]
    return out


def states_abnormality(seq):
    """Whether a caption names a finding: tools/dataset writes "Abnormal:
    <findings>." in those, "No abnormality." in the others."""
    return seq.get("abnormal", False)


def normal_caption_tail(ds):
    """The ids every normal caption ends with (" No abnormality." and
    <|end|>), so a generated caption can be called normal without a
    tokenizer; None when the captions have no common ending."""
    tail = None
    for s in ds.seqs:
        if s.get("abnormal"):
            continue
        a = list(s["answer"])
        if tail is None:
            tail = a
            continue
        n = 0
        while n < min(len(tail), len(a)) and tail[-1 - n] == a[-1 - n]:
            n += 1
        tail = tail[len(tail) - n :]
    return tail if tail and len(tail) > 1 else None


class Dataset:
    """One split's sequences of one kind: "samples" (report and VQA, each
    a {"prompt", "answer", "task", "row"} dict) or "captions" (one slice
    each, the shared caption prompt)."""

    def __init__(self, data_dir, split, kind):
        self.data_dir, self.split, self.kind = data_dir, split, kind
        meta = read_meta(data_dir)
        path = os.path.join(data_dir, split, kind + ".jsonl")
        vp = os.path.join(data_dir, split, "volumes.npy")
        self.volumes = np.load(vp, mmap_mode="r")
        if self.volumes.ndim != 4:
            raise ValueError("%s: shape %s, want (N, D, H, W)" % (vp, self.volumes.shape))
        n = self.volumes.shape[0]
        self.labels = finding_labels(meta)
        self.case_labels = np.zeros((n, len(self.labels)), dtype=np.float32)
        cap_prompt = meta["prompt"]["caption_prompt_ids"]
        self.seqs = []
        with open(path) as f:
            for line, text in enumerate(f, 1):
                if not text.strip():
                    continue
                r = json.loads(text)
                if kind == "captions":
                    s = {"prompt": cap_prompt, "answer": r["caption_ids"], "task": -1, "row": r["case"], "slice": r["slice"],
                         "abnormal": "Abnormal:" in r.get("caption", "")}
                    if "findings" in r:  # datasets built before it lack it
                        s["labels"] = self.label_vector(r["findings"], path, line)
                else:
                    if r["task"] not in M.TASKS:
                        raise ValueError("%s:%d: task %r is not one of %s" % (path, line, r["task"], M.TASKS))
                    s = {"prompt": r["prompt_ids"], "answer": r["answer_ids"], "task": M.TASKS.index(r["task"]), "row": r["case"]}
                if not 0 <= s["row"] < n:
                    raise ValueError("%s:%d: case %d is not a row of %s (%d rows)" % (path, line, s["row"], vp, n))
                if kind != "captions":  # every sample of a case lists the case's findings
                    v = self.label_vector(r.get("findings") or [], path, line)
                    self.case_labels[s["row"]] = np.maximum(self.case_labels[s["row"]], v)
                if s["prompt"].count(M.IMAGE_SLOT) != 1:
                    raise ValueError("%s:%d: the prompt must hold exactly one image slot (-1)" % (path, line))
                self.seqs.append(s)

    def label_vector(self, findings, path, line):
        """The probe labels (self.labels) of a list of findings."""
        v = np.zeros(len(self.labels), dtype=np.float32)
        for f in findings:
            kind = f.get("kind", "")
            if kind not in self.labels:
                raise ValueError("%s:%d: finding kind %r is not in meta.json's findings" % (path, line, kind))
            v[self.labels.index(kind)] = 1.0
            sided = "%s@%s" % (kind, f.get("side") or "")
            if sided in self.labels:
                v[self.labels.index(sided)] = 1.0
        return v

    def has_finding_labels(self):
        """Whether every sequence has probe labels: samples always; captions
        when the dataset was built with their findings."""
        return self.kind != "captions" or all("labels" in s for s in self.seqs)

    def finding_targets(self, idx):
        """(B, L) probe labels of sequences idx: a caption's own slice's,
        else the sequence's case's."""
        if self.kind == "captions":
            return np.stack([self.seqs[i]["labels"] for i in idx])
        return np.stack([self.case_labels[self.seqs[i]["row"]] for i in idx])

    def repeat(self, pred, k):
        """Makes each sequence for which pred(seq) holds appear k times
        (appended, so the order, and so the batches, stay deterministic)."""
        extra = [s for s in self.seqs if pred(s)]
        self.seqs = self.seqs + extra * (k - 1)

    def __len__(self):
        return len(self.seqs)

    def volume(self, i):
        """(D, H, W) float32 of sequence i's case."""
        return np.asarray(self.volumes[self.seqs[i]["row"]], dtype=np.float32)

    def slice(self, i):
        """(1, H, W) float32: the slice a caption describes."""
        s = self.seqs[i]
        return np.asarray(self.volumes[s["row"], s["slice"] : s["slice"] + 1], dtype=np.float32)
