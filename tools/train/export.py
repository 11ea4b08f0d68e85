#!/usr/bin/python3
"""Export a tools/train checkpoint as a ctlens model directory.

    /usr/bin/python3 tools/train/export.py RUN/stage2/final.pt --out weights/demo [--quant f32|f16]

1. writes a Hugging Face style checkpoint (config.json holding the ctlens
   model.Config, model.safetensors with the engine's tensor names,
   tokenizer.json) to a temporary directory (--hf-dir to keep it);
2. runs `go run ./tools/convert` on it (which accepts what tools/train
   writes) to make the manifest directory OUT/ (sha256-checked shards);
3. writes the parity files into OUT/: fixed inputs (a validation volume and
   its prompt), PyTorch's logits for every prompt row and for 8 greedy
   steps, the tokens and the task routing. `go run ./tools/train parity
   --model OUT` and tools/train's Go tests check the engine against them.

With --quant f16 the matrices the converter would store as f16 are rounded
to f16 here before the parity logits are computed, so the parity file is
against the very weights the directory holds.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARITY_STEPS = 8


def is_matrix(name, shape):
    """tools/internal/engine.IsMatrix: what the converter may quantize."""
    if len(shape) < 2 or not name.endswith(".weight"):
        return False
    for s in ("position_embedding.weight", "mlp.router.weight", "task_router.weight", "text_proj.weight"):
        if name.endswith(s):
            return False
    return True


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    for k in ("cfg", "model"):
        if k not in ck:
            raise SystemExit("export: %s is not a tools/train checkpoint (no %r)" % (path, k))
    m = M.CTLens(ck["cfg"])
    m.load_state_dict(ck["model"])
    m.eval()
    return m, ck


def parity_input(m, data_dir, seed):
    """A validation volume and its report prompt when the dataset is at
    hand (the longest answer: many greedy steps worth comparing), else a
    random volume and a prompt of random ids (same shapes)."""
    cfg = m.cfg
    v = cfg["vision_config"]
    d, cin, hw = M.slices(cfg), v["num_channels"], v["image_size"]
    for split in ("val", "test", "train"):
        if data_dir and os.path.exists(os.path.join(data_dir, split, "samples.jsonl")):
            import data as D  # noqa: E402

            ds = D.Dataset(data_dir, split, "samples")
            if len(ds) == 0:
                continue
            i = next((j for j, s in enumerate(ds.seqs) if s["task"] == 0), 0)
            vol = ds.volume(i)
            if vol.shape[0] == d and vol.shape[-1] == hw:
                px = torch.from_numpy(vol)[:, None].expand(d, cin, hw, hw).contiguous()
                return px, list(ds.seqs[i]["prompt"]), "%s %s sample %d" % (data_dir, split, i)
    g = torch.Generator().manual_seed(seed)
    px = torch.rand(d, cin, hw, hw, generator=g)
    vocab = cfg["text_config"]["vocab_size"]
    ids = torch.randint(0, vocab, (12,), generator=g).tolist()
    return px, ids[:4] + [M.IMAGE_SLOT] + ids[4:], "random (seed %d)" % seed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--out", required=True, help="the ctlens model directory to write (new or empty)")
    ap.add_argument("--name", default="", help="model name in the manifest (default: OUT's base name)")
    ap.add_argument("--quant", default="f32", choices=["f32", "f16"], help="storage of the matrices")
    ap.add_argument("--data", default="", help="dataset directory for the parity input (default: the checkpoint's)")
    ap.add_argument("--tokenizer", default="", help="tokenizer.json (default: the dataset's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-convert", action="store_true", help="stop after the HF-style checkpoint (--hf-dir, default OUT.hf/)")
    ap.add_argument("--hf-dir", default="", help="where the HF-style checkpoint goes (default: a temporary directory, removed)")
    ap.add_argument("--go", default=os.environ.get("GO", "go"), help="the go command")
    a = ap.parse_args(argv)

    torch.manual_seed(a.seed)
    m, ck = load_checkpoint(a.checkpoint)
    meta = ck.get("meta", {})
    data_dir = a.data or meta.get("data", "")
    tok_path = a.tokenizer or (os.path.join(data_dir, "tokenizer.json") if data_dir else "")
    if not tok_path or not os.path.exists(tok_path):
        raise SystemExit("export: no tokenizer.json (looked at %r)\nhint: pass --tokenizer or --data DATASET" % tok_path)

    if a.quant == "f16":
        round_matrices_f16(m)
    state = m.export_state()

    if not a.no_convert and os.path.exists(a.out) and os.listdir(a.out):
        raise SystemExit("export: --out %s is not empty\nhint: remove the old model first" % a.out)
    hf = a.hf_dir or (a.out.rstrip("/") + ".hf" if a.no_convert else tempfile.mkdtemp(prefix="ctlens-export-"))
    if os.path.exists(hf):
        shutil.rmtree(hf)
    os.makedirs(hf)
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(m.cfg, f, indent=1)
    safetensors.save(os.path.join(hf, "model.safetensors"), state, {"format": "pt", "source": "ctlens tools/train"})
    shutil.copy(tok_path, os.path.join(hf, "tokenizer.json"))
    print("export: wrote %s (%d tensors, %.2f M parameters)" % (hf, len(state), sum(t.numel() for t in state.values()) / 1e6))
    if a.no_convert:
        return

    cmd = [a.go, "run", "./tools/convert", "--checkpoint", os.path.abspath(hf), "--out", os.path.abspath(a.out),
           "--llm-quant", a.quant, "--vision-quant", a.quant, "--input-norm", m.cfg.get("input_norm") or "minmax"]
    if a.name:
        cmd += ["--name", a.name]
    r = subprocess.run(cmd, cwd=REPO)
    if not a.hf_dir:
        shutil.rmtree(hf)
    if r.returncode != 0:
        raise SystemExit("export: %s failed (exit %d)" % (" ".join(cmd), r.returncode))

    px, prompt, what = parity_input(m, data_dir, a.seed)
    pl, sl, toks, tl, chosen = M.greedy(m, px, prompt, PARITY_STEPS)
    task, probs = -1, []
    if tl is not None:
        task, probs = int(chosen[0]), torch.softmax(tl[0], -1).tolist()
    np.save(os.path.join(a.out, "parity_pixels.npy"), px.numpy().astype(np.float32))
    np.save(os.path.join(a.out, "parity_prompt_logits.npy"), pl.numpy().astype(np.float32))
    np.save(os.path.join(a.out, "parity_step_logits.npy"), sl.numpy().astype(np.float32))
    with open(os.path.join(a.out, "parity.json"), "w") as f:
        json.dump({"prompt": prompt, "tokens": toks, "task": task, "task_probs": probs, "dtype": a.quant,
                   "input": what, "torch": torch.__version__}, f, indent=1)
    print("export: parity input %s: task %d, greedy %s" % (what, task, toks))


def round_matrices_f16(m):
    """Rounds, in place, the parameters the converter stores as f16 (the
    matrices engine.IsMatrix selects) to f16 values."""
    names = list(m.export_state().keys())  # export_state keeps named_parameters' order
    with torch.no_grad():
        for (n, p), e in zip(m.named_parameters(), names):
            if is_matrix(e, list(p.shape)):
                p.copy_(p.half().float())


if __name__ == "__main__":
    main()
