#!/usr/bin/env python3
"""hfref.py: an independent PyTorch reading of Hugging Face's forward passes.

`ctlens hf-dump` runs an HF checkpoint with our own engine and writes what
transformers would return. This script computes the same files from the same
checkpoint and inputs with nothing of ours: it reads safetensors and
config.json itself and follows, step by step, what these HF modules do:

  CLIPVisionModel   transformers/models/clip/modeling_clip.py
  Phi3ForCausalLM   transformers/models/phi3/modeling_phi3.py (+ the
                    longrope branch of modeling_rope_utils.py, and
                    Phi3ForCausalLM.prepare_inputs_for_generation)
  Phi3VForCausalLM  microsoft/Phi-3-vision-128k-instruct's remote code
                    (modeling_phi3_v.py, image_embedding_phi3_v.py)

It is a transcription of their semantics, written for reading, not their
code: eager attention, float32 throughout (what from_pretrained(...,
torch_dtype=torch.float32) runs), batch 1.

Usage (the flags are hf-dump's):

  hfref.py --checkpoint DIR [--tokens 1,2,3 | --tokens-npy ids.npy]
           [--pixels px.npy] [--image-sizes H,W] --out DIR
  hfref.py --jobs jobs.json     # a JSON list of {"checkpoint": ..., "out": ...,
                                # "tokens": "1,2", "tokens_npy": ..., "pixels": ...,
                                # "image_sizes": "H,W", "perturb": ...}
                                # run in one process (torch imports once); a failed
                                # job prints one "hfref: CHECKPOINT: ..." line and the
                                # others still run

--perturb NAME (or a job's "perturb") breaks one rule on purpose (rope-sign:
rotate_half's sign flipped; short-factor: the short LongRoPE factors where
the long ones apply), so a test can show that the comparison with hf-dump
notices.

Needs numpy and torch (Debian: apt-get install python3-torch).
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

GREEDY_STEPS = 8  # hf-dump's greedySteps: generate(max_new_tokens=8, do_sample=False), no EOS stop

PERTURB = ""


# ---- checkpoint ------------------------------------------------------------------


def read_safetensors(path):
    """All tensors of one .safetensors file as float32 torch tensors.

    Layout: u64 little-endian header size, a JSON header mapping each name to
    dtype, shape and [begin, end) byte offsets relative to the data section,
    then the data section.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header of {n} bytes past the end of the file")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        buf = data[begin:end]
        count = int(np.prod(meta["shape"], dtype=np.int64))
        dt = meta["dtype"]
        if dt == "F32":
            v = np.frombuffer(buf, dtype="<f4")
        elif dt == "F16":
            v = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            # bfloat16 is the top half of a float32.
            v = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name}: dtype {dt} (want F32, F16 or BF16)")
        if v.size != count:
            raise ValueError(f"{path}: tensor {name}: {v.size} values for shape {meta['shape']}")
        out[name] = torch.from_numpy(v.reshape(meta["shape"]).copy())
    return out


def read_checkpoint(d):
    """config.json and every tensor of an HF checkpoint directory, one file or sharded."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for name in files:
        w.update(read_safetensors(os.path.join(d, name)))
    return cfg, w


def need(w, name):
    if name not in w:
        raise KeyError(f"checkpoint has no tensor {name}")
    return w[name]


# ---- activations -----------------------------------------------------------------


def activation(name):
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return lambda x: F.gelu(x)  # erf form, nn.GELU()'s default
    if name == "gelu_new" or name == "gelu_pytorch_tanh":
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "silu":
        return F.silu
    raise ValueError(f"activation {name} not handled")


# ---- CLIP vision tower -------------------------------------------------------------


class CLIPVision:
    """CLIPVisionTransformer: patch conv + class token + learned positions,
    pre_layrnorm, pre-LN encoder layers, post_layernorm on the class token."""

    def __init__(self, vc, w, prefix):
        self.w, self.p = w, prefix
        self.dim = vc["hidden_size"]
        self.heads = vc["num_attention_heads"]
        self.layers = vc["num_hidden_layers"]
        self.patch = vc["patch_size"]
        self.eps = vc.get("layer_norm_eps", 1e-5)
        self.act = activation(vc.get("hidden_act", "quick_gelu"))

    def t(self, name):
        return need(self.w, self.p + name)

    def ln(self, x, name):
        return F.layer_norm(x, (self.dim,), self.t(name + ".weight"), self.t(name + ".bias"), self.eps)

    def lin(self, x, name):
        return F.linear(x, self.t(name + ".weight"), self.t(name + ".bias"))

    def hidden_states(self, px):
        """px (N, C, H, W) → [embeddings after pre_layrnorm, layer 1 out, ...], each (N, S, D)."""
        n = px.shape[0]
        grid = F.conv2d(px, self.t("embeddings.patch_embedding.weight"), stride=self.patch)  # (N, D, g, g), no bias
        patches = grid.flatten(2).transpose(1, 2)  # (N, g·g, D), row-major over the grid
        cls = self.t("embeddings.class_embedding").reshape(1, 1, self.dim).expand(n, 1, self.dim)
        x = torch.cat([cls, patches], dim=1) + self.t("embeddings.position_embedding.weight").unsqueeze(0)
        x = self.ln(x, "pre_layrnorm")
        out = [x]
        dh = self.dim // self.heads
        for l in range(self.layers):
            L = f"encoder.layers.{l}."
            h = self.ln(x, L + "layer_norm1")
            s = h.shape[1]

            def heads(name):
                return self.lin(h, L + "self_attn." + name).reshape(n, s, self.heads, dh).transpose(1, 2)

            q, k, v = heads("q_proj"), heads("k_proj"), heads("v_proj")
            att = torch.softmax((q @ k.transpose(-1, -2)) * dh**-0.5, dim=-1)  # no mask in the vision tower
            a = (att @ v).transpose(1, 2).reshape(n, s, self.dim)
            x = x + self.lin(a, L + "self_attn.out_proj")
            h = self.ln(x, L + "layer_norm2")
            x = x + self.lin(self.act(self.lin(h, L + "mlp.fc1")), L + "mlp.fc2")
            out.append(x)
        return out

    def pooled(self, last):
        return self.ln(last[:, 0, :], "post_layernorm")


# CLIP ViT-L/14-336, which Phi-3-V's remote code builds its tower from when
# config.json carries no vision_config.
CLIP_L14_336 = dict(hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=24,
                    image_size=336, patch_size=14, num_channels=3, layer_norm_eps=1e-5, hidden_act="quick_gelu")


# ---- Phi-3 decoder ----------------------------------------------------------------


class Phi3Decoder:
    """Phi3Model + lm_head, with a KV cache as generate() keeps one."""

    def __init__(self, cfg, w):
        self.w = w
        self.c = cfg["hidden_size"]
        self.h = cfg["num_attention_heads"]
        self.hkv = cfg.get("num_key_value_heads") or self.h
        self.dh = cfg.get("head_dim") or self.c // self.h
        self.layers = cfg["num_hidden_layers"]
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.act = activation(cfg.get("hidden_act", "silu"))
        self.theta = float(cfg.get("rope_theta", 10000.0))
        self.rot = int(self.dh * cfg.get("partial_rotary_factor", 1.0))
        self.max_pos = cfg["max_position_embeddings"]
        self.orig = cfg.get("original_max_position_embeddings")
        rs = cfg.get("rope_scaling")
        kind = None if rs is None else rs.get("rope_type", rs.get("type"))
        if kind in ("su", "longrope"):  # Phi3Config renames su to longrope
            self.short = torch.tensor(rs["short_factor"], dtype=torch.float32)
            self.long = torch.tensor(rs["long_factor"], dtype=torch.float32)
            if self.orig is None:
                self.orig = self.max_pos
            factor = self.max_pos / self.orig
            att = rs.get("attention_factor")
            if att is None:
                att = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(self.orig))
            self.mscale = att
        elif kind in (None, "default"):
            self.short = self.long = None
            self.mscale = 1.0
        else:
            raise ValueError(f"rope_scaling type {kind} not handled")
        self.embed = need(w, "model.embed_tokens.weight")
        if cfg.get("tie_word_embeddings", False):
            self.head = self.embed
        else:
            self.head = need(w, "lm_head.weight")

    @property
    def longrope(self):
        return self.short is not None

    def rope(self, pos):
        """cos, sin (L, rot) for positions pos: Phi3RotaryEmbedding's forward.

        LongRoPE picks its factors per forward call from the furthest
        position of that call (max(position_ids) + 1 against
        original_max_position_embeddings), and scales cos and sin by the
        attention factor either way."""
        ext = None
        if self.longrope:
            long = int(pos.max()) + 1 > self.orig
            if PERTURB == "short-factor":
                long = False
            ext = self.long if long else self.short
        exps = torch.arange(0, self.rot, 2, dtype=torch.int64).float() / self.rot
        inv = 1.0 / (self.theta**exps if ext is None else ext * self.theta**exps)
        ang = pos.float()[:, None] * inv[None, :]  # (L, rot/2)
        ang = torch.cat([ang, ang], dim=-1)
        return ang.cos() * self.mscale, ang.sin() * self.mscale

    def rotate(self, x, cos, sin):
        """x (heads, L, dh): q·cos + rotate_half(q)·sin on the first rot dims."""
        r, rest = x[..., : self.rot], x[..., self.rot :]
        half = self.rot // 2
        a, b = r[..., :half], r[..., half:]
        turned = torch.cat([-b, a], dim=-1)  # rotate_half
        if PERTURB == "rope-sign":
            turned = -turned
        return torch.cat([r * cos + turned * sin, rest], dim=-1)

    def rms(self, x, name):
        v = x.pow(2).mean(-1, keepdim=True)
        return need(self.w, name) * (x * torch.rsqrt(v + self.eps))

    def forward(self, x, pos, cache):
        """x (L, C) input embeddings at absolute positions pos (L,); cache a
        list of per-layer (K, V), (Hkv, S, dh), extended in place. Returns
        the logits (L, vocab)."""
        cos, sin = self.rope(pos)
        n = x.shape[0]
        rep = self.h // self.hkv
        qw, kw = self.h * self.dh, self.hkv * self.dh
        for l in range(self.layers):
            P = f"model.layers.{l}."
            h = self.rms(x, P + "input_layernorm.weight")
            qkv = h @ need(self.w, P + "self_attn.qkv_proj.weight").t()  # rows: q heads, k heads, v heads
            q = qkv[:, :qw].reshape(n, self.h, self.dh).transpose(0, 1)
            k = qkv[:, qw : qw + kw].reshape(n, self.hkv, self.dh).transpose(0, 1)
            v = qkv[:, qw + kw :].reshape(n, self.hkv, self.dh).transpose(0, 1)
            q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
            if len(cache) > l:
                k = torch.cat([cache[l][0], k], dim=1)
                v = torch.cat([cache[l][1], v], dim=1)
                cache[l] = (k, v)
            else:
                cache.append((k, v))
            s = k.shape[1]
            # repeat_kv: query head j reads key/value head j // rep.
            k = k[:, None].expand(self.hkv, rep, s, self.dh).reshape(self.h, s, self.dh)
            v = v[:, None].expand(self.hkv, rep, s, self.dh).reshape(self.h, s, self.dh)
            scores = (q @ k.transpose(1, 2)) * self.dh**-0.5  # (H, L, S)
            # The cache holds positions 0..s-1; a query sees keys up to its own position.
            future = torch.arange(s)[None, :] > pos[:, None]
            scores = scores.masked_fill(future[None], torch.finfo(torch.float32).min)
            att = torch.softmax(scores, dim=-1, dtype=torch.float32) @ v  # (H, L, dh)
            x = x + att.transpose(0, 1).reshape(n, qw) @ need(self.w, P + "self_attn.o_proj.weight").t()
            h = self.rms(x, P + "post_attention_layernorm.weight")
            gate, up = (h @ need(self.w, P + "mlp.gate_up_proj.weight").t()).chunk(2, dim=-1)  # gate first
            x = x + (up * self.act(gate)) @ need(self.w, P + "mlp.down_proj.weight").t()
        x = self.rms(x, "model.norm.weight")
        return x @ self.head.t()

    def generate(self, prompt):
        """prompt (T, C) embeddings → the prompt's logits (T, V), then 8
        greedy steps with the KV cache: the tokens and the logits each was
        picked from.

        Phi3ForCausalLM.prepare_inputs_for_generation drops the cache once,
        at the step where the sequence first grows past
        original_max_position_embeddings (input length ≥ orig + 1 while the
        cache holds ≤ orig tokens), so that step recomputes every position
        with the long factors."""
        t = prompt.shape[0]
        cache = []
        logits = self.forward(prompt, torch.arange(t), cache)
        row = logits[-1]
        tokens, steps = [], []
        for i in range(GREEDY_STEPS):
            if i > 0:
                total = t + i  # the sequence with the token just picked
                if self.longrope and total >= self.orig + 1 and total - 1 <= self.orig:
                    cache = []
                    seq = torch.cat([prompt, self.embed[torch.tensor(tokens)]], dim=0)
                    row = self.forward(seq, torch.arange(total), cache)[-1]
                else:
                    row = self.forward(self.embed[tokens[-1]][None], torch.tensor([total - 1]), cache)[-1]
            steps.append(row)
            tokens.append(int(np.argmax(row.numpy())))  # first maximum, as torch.argmax
        return logits, tokens, torch.stack(steps)


# ---- Phi-3-V image embedding --------------------------------------------------------


class Phi3VImage:
    """Phi3ImageEmbedding with the HD transform: every crop through CLIP,
    features of layer layer_idx without the class token, each crop's grid
    merged 2×2 into 4·D channels, sub crops tiled into one map, a sub_GN
    column closing every row, then [sub map, glb_GN, global map] through
    Linear → GELU → Linear."""

    def __init__(self, cfg, w):
        p = "model.vision_embed_tokens."
        vc = cfg.get("vision_config") or CLIP_L14_336
        self.clip = CLIPVision(vc, w, p + "img_processor.vision_model.")
        self.size = vc["image_size"]
        self.grid = vc["image_size"] // vc["patch_size"]
        ip = cfg.get("img_processor") or {}
        self.layer = ip.get("layer_idx", -2)
        if ip.get("type_feature", "patch") != "patch":
            raise ValueError(f"img_processor.type_feature {ip.get('type_feature')} not handled")
        el = cfg.get("embd_layer") or {}
        if not el.get("use_hd_transform", False) or el.get("hd_transform_order", "glb_sub") != "sub_glb":
            raise ValueError("only the HD transform in sub_glb order (Phi-3-vision-128k-instruct's) is handled")
        if el.get("projection_cls", "linear") != "mlp":
            raise ValueError("only the mlp projection is handled")
        self.w, self.p = w, p
        self.dim = vc["hidden_size"]

    def merged(self, feat, hc, wc):
        """feat (hc·wc, g·g, D), crops row-major → (hc·g/2, wc·g/2, 4D): each
        2×2 block of a crop becomes one token whose channels run over
        (block row, block col, D); crop (i, j) fills rows i·g/2.., cols j·g/2.."""
        g, d, m = self.grid, self.dim, self.grid // 2
        out = torch.empty(hc * m, wc * m, 4 * d)
        for c in range(hc * wc):
            blocks = feat[c].reshape(m, 2, m, 2, d).permute(0, 2, 1, 3, 4).reshape(m, m, 4 * d)
            i, j = divmod(c, wc)
            out[i * m : (i + 1) * m, j * m : (j + 1) * m] = blocks
        return out

    def with_newlines(self, grid):
        rows, _, ch = grid.shape
        sep = need(self.w, self.p + "sub_GN").reshape(1, 1, ch).expand(rows, 1, ch)
        return torch.cat([grid, sep], dim=1).reshape(-1, ch)

    def __call__(self, crops, hw):
        h, w = hw
        hc, wc = h // self.size, w // self.size
        # The remote code runs every crop the processor padded to; only the
        # first 1 + hc·wc are read.
        feats = self.clip.hidden_states(crops)[self.layer][:, 1:]
        if feats.shape[0] < 1 + hc * wc:
            raise ValueError(f"{feats.shape[0]} crops, the {h}×{w} layout needs {1 + hc * wc}")
        glb = self.with_newlines(self.merged(feats[0:1], 1, 1))
        sub = self.with_newlines(self.merged(feats[1 : 1 + hc * wc], hc, wc))
        tokens = torch.cat([sub, need(self.w, self.p + "glb_GN").reshape(1, -1), glb], dim=0)
        P = self.p + "img_projection."
        x = F.linear(tokens, need(self.w, P + "0.weight"), need(self.w, P + "0.bias"))
        return F.linear(F.gelu(x), need(self.w, P + "2.weight"), need(self.w, P + "2.bias"))


# ---- one job ----------------------------------------------------------------------


def load_npy(path, what):
    try:
        return np.load(path)
    except Exception as e:
        raise ValueError(f"{what} {path}: {e}")


def read_ids(job):
    if job.get("tokens") and job.get("tokens_npy"):
        raise ValueError("give tokens or tokens_npy, not both")
    if job.get("tokens"):
        return [int(s) for s in str(job["tokens"]).split(",")]
    if job.get("tokens_npy"):
        return [int(v) for v in load_npy(job["tokens_npy"], "--tokens-npy").reshape(-1)]
    raise ValueError("a causal LM needs --tokens or --tokens-npy")


def save(out, name, a):
    np.save(os.path.join(out, name), np.ascontiguousarray(a))


def run_job(job):
    cfg, w = read_checkpoint(job["checkpoint"])
    out = job["out"]
    os.makedirs(out, exist_ok=True)
    arch = (cfg.get("architectures") or [""])[0]
    with torch.no_grad():
        if arch == "CLIPVisionModel":
            clip = CLIPVision(cfg, w, "vision_model.")
            px = torch.from_numpy(load_npy(job["pixels"], "--pixels").astype(np.float32))
            if px.dim() == 3:
                px = px[None]
            hs = clip.hidden_states(px)
            save(out, "hidden_states.npy", torch.stack(hs).numpy().astype("<f4"))
            save(out, "last_hidden_state.npy", hs[-1].numpy().astype("<f4"))
            save(out, "pooler_output.npy", clip.pooled(hs[-1]).numpy().astype("<f4"))
            return
        if arch not in ("Phi3ForCausalLM", "Phi3VForCausalLM"):
            raise ValueError(f"{job['checkpoint']}: architecture {arch!r} not handled")
        ids = read_ids(job)
        dec = Phi3Decoder(cfg, w)
        slots = [i for i, v in enumerate(ids) if v < 0]
        # Image slots read embedding row 0 (the remote code clamps the ids) until overwritten.
        x = dec.embed[torch.tensor([max(v, 0) for v in ids])]
        if arch == "Phi3VForCausalLM":
            if slots:
                hw = [int(s) for s in job["image_sizes"].split(",")] if job.get("image_sizes") else [0, 0]
                img = Phi3VImage(cfg, w)
                if hw == [0, 0]:
                    hw = [img.size, img.size]
                px = torch.from_numpy(load_npy(job["pixels"], "--pixels").astype(np.float32))
                if px.dim() == 5:
                    px = px[0]
                emb = img(px, hw)
                if emb.shape[0] != len(slots):
                    raise ValueError(f"{len(slots)} image slots for {emb.shape[0]} image tokens")
                x = x.clone()
                x[torch.tensor(slots)] = emb
                save(out, "image_embeds.npy", emb[None].numpy().astype("<f4"))
            save(out, "inputs_embeds.npy", x[None].numpy().astype("<f4"))
        elif slots:
            raise ValueError("negative ids need a vision tower")
        logits, tokens, steps = dec.generate(x)
        save(out, "logits.npy", logits[None].numpy().astype("<f4"))
        save(out, "greedy_tokens.npy", np.array([tokens], dtype="<i8"))
        save(out, "greedy_step_logits.npy", steps[None].numpy().astype("<f4"))


def main():
    global PERTURB
    ap = argparse.ArgumentParser(description="independent HF reference for ctlens hf-dump")
    ap.add_argument("--checkpoint")
    ap.add_argument("--tokens")
    ap.add_argument("--tokens-npy")
    ap.add_argument("--pixels")
    ap.add_argument("--image-sizes")
    ap.add_argument("--out")
    ap.add_argument("--jobs", help="JSON list of jobs with the keys above (tokens_npy, image_sizes)")
    ap.add_argument("--perturb", default="", choices=["", "rope-sign", "short-factor"])
    a = ap.parse_args()
    PERTURB = a.perturb
    torch.set_num_threads(1)
    if a.jobs:
        with open(a.jobs) as f:
            jobs = json.load(f)
    else:
        if not a.checkpoint or not a.out:
            ap.error("--checkpoint and --out are required (or --jobs)")
        jobs = [dict(checkpoint=a.checkpoint, tokens=a.tokens, tokens_npy=a.tokens_npy, pixels=a.pixels,
                     image_sizes=a.image_sizes, out=a.out)]
    # Every job runs; a failed one is reported on its own line and makes
    # the exit status 1.
    failed = False
    for job in jobs:
        PERTURB = job.get("perturb") or a.perturb
        try:
            if PERTURB not in ("", "rope-sign", "short-factor"):
                raise ValueError(f"unknown perturbation {PERTURB!r}")
            run_job(job)
        except Exception as e:
            print(f"hfref: {job.get('checkpoint')}: {type(e).__name__}: {e}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
