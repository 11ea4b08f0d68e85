#!/usr/bin/python3
"""Train the ctlens model by the paper's recipe (docs/TRAINING.md).

    /usr/bin/python3 tools/train/train.py --data DATASET --out RUN [--recipe two-stage] [--size demo]
        [--ranks 2] [--device cpu|cuda] [--steps 0:300,1:600,2:400] [--resume] [--smoke]

Stages (each in RUN/<stage>/, final.pt when done):
  s0   a tiny 2D MLLM trained on single slices with their captions, standing in
       for the pretrained 2D model;
  s1   the 2D->3D transfer reusing every 2D parameter (3D attention with the
       slice rotary from layers_3d_from up), task-shared features learnt on
       mixed report + VQA data;
  s2   TGH-MoE added (experts cloned from the FFN, routers at zero, the task
       router trained against the task label), task-specific experts learnt
       at the full rate, the shared parts at --shared-lr-mult.
Recipes (the paper's ablation, docs/TRAINING.md): two-stage (s0 s1 s2),
one-stage (s0, then the MoE model trained from the transfer for the s1+s2
budget), 3d (s0, then s1 for the s1+s2 budget, no MoE), 2d (s0, then the
2D model on volumes -- slices attend within themselves -- for the s1+s2
budget).

Deterministic by --seed (data order is a function of seed, stage and step;
no dropout); checkpoints every --ckpt-every steps and at each stage's end;
--resume continues from the last one. Data-parallel with
DistributedDataParallel: --ranks N spawns N ranks with torch.multiprocessing
(gloo on CPU, nccl with --device cuda); under torchrun (RANK, WORLD_SIZE,
LOCAL_RANK in the environment) it joins the env:// rendezvous instead.
Each rank takes its own share of every global batch.
"""

import argparse
import copy
import datetime
import json
import math
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import model as M  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ---- sizes -----------------------------------------------------------------------

SIZES = {
    # CI: seconds on 2 CPU cores
    "smoke": dict(patch=8, cv=32, vlayers=2, vheads=2, fv=64, from3d=1, moe=[1], eg=2, topk=1, dt=8, depth_pool=1,
                  c=64, layers=2, heads=4, kv=2, f=96, batch=2),
    # the shipped demo model: sized to train on 2 shared CPU cores in about an hour
    "demo": dict(patch=16, cv=96, vlayers=4, vheads=4, fv=256, from3d=2, moe=[2, 3], eg=2, topk=1, dt=32, depth_pool=2,
                 c=128, layers=4, heads=4, kv=2, f=384, batch=8),
    # the same recipe on a GPU
    "large": dict(patch=8, cv=384, vlayers=8, vheads=6, fv=1536, from3d=4, moe=[4, 5, 6, 7], eg=4, topk=2, dt=64,
                  depth_pool=2, c=768, layers=8, heads=12, kv=4, f=2048, batch=16),
}

DEFAULT_STEPS = {"smoke": {0: 3, 1: 3, 2: 3}, "demo": {0: 300, 1: 600, 2: 400}, "large": {0: 3000, 1: 6000, 2: 4000}}


def make_config(size, info, slices, image_size):
    """The ctlens model.Config (JSON object) of the 3D TGH-MoE model."""
    s = SIZES[size]
    return {
        "model_type": "ctlens",
        "vision_config": {
            "image_size": image_size, "patch_size": s["patch"], "num_channels": 1, "hidden_size": s["cv"],
            "num_hidden_layers": s["vlayers"], "num_attention_heads": s["vheads"], "intermediate_size": s["fv"],
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "feature_layer": -1, "class_token": True,
        },
        "transfer_3d": {"enabled": True, "slices": slices, "layers_3d_from": s["from3d"], "slice_rope": True,
                        "slice_rope_theta": 10000.0, "slice_rope_dim": 0},
        "moe": {"layers": list(s["moe"]), "tasks": 3, "experts_per_task": s["eg"], "top_k": s["topk"],
                "shared_expert": True, "router_text_dim": s["dt"], "renormalize": True},
        "projector": {"hidden_act": "gelu", "sub_separator": False, "glb_separator": False,
                      "depth_pool": s["depth_pool"] if slices % s["depth_pool"] == 0 else 1},
        "text_config": {
            "hidden_size": s["c"], "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"],
            "num_key_value_heads": s["kv"], "intermediate_size": s["f"], "vocab_size": info["vocab_size"],
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None, "max_position_embeddings": 2048,
            "tie_word_embeddings": False, "hidden_act": "silu", "bos_token_id": info["bos_token_id"],
            "eos_token_id": info["eos_token_id"],
        },
        "prompt": info["prompt"],
        "input_norm": info.get("input_norm") or "minmax",
    }


def stage_config(cfg, kind):
    """The config one stage trains: 2d1 (one slice, stage 0), 2d (D slices,
    no 3D attention, no MoE), 3d (no MoE), moe (the full model)."""
    c = copy.deepcopy(cfg)
    if kind in ("2d1", "2d"):
        c["transfer_3d"]["enabled"] = False
        c["transfer_3d"]["slice_rope"] = False
    if kind == "2d1":
        c["transfer_3d"]["slices"] = 1
        c["projector"]["depth_pool"] = 1
    if kind != "moe":
        c["moe"] = {"layers": [], "tasks": 3, "experts_per_task": 0, "top_k": 0, "shared_expert": False,
                    "router_text_dim": 0, "renormalize": False}
    return c


def recipe_stages(recipe, steps):
    """[(name, config kind, data kind, steps, init)] of a recipe."""
    s0 = ("s0", "2d1", "captions", steps[0], "new")
    both = steps[1] + steps[2]
    if recipe == "two-stage":
        return [s0, ("s1", "3d", "samples", steps[1], "transfer"), ("s2", "moe", "samples", steps[2], "add_moe")]
    if recipe == "one-stage":
        return [s0, ("s1-moe", "moe", "samples", both, "transfer_moe")]
    if recipe == "3d":
        return [s0, ("s1-3d", "3d", "samples", both, "transfer")]
    if recipe == "2d":
        return [s0, ("s1-2d", "2d", "samples", both, "transfer")]
    raise SystemExit("train: unknown --recipe %r (two-stage, one-stage, 3d, 2d)" % recipe)


# ---- batches -------------------------------------------------------------------


def global_batch(n, step, gb, seed, stage_idx):
    """The indices of global batch `step`: epochs of seeded permutations."""
    out = []
    pos = step * gb
    while len(out) < gb:
        epoch, off = divmod(pos, n)
        perm = np.random.RandomState((seed * 1000003 + stage_idx * 7919 + epoch) % (2**31)).permutation(n)
        take = min(gb - len(out), n - off)
        out.extend(perm[off : off + take].tolist())
        pos += take
    return out


def make_batch(ds, idx, cin, device):
    """Pixels (B, D, Cin, H, W), id lists (prompt + answer), targets (B, T)
    with -100 outside the answer, task labels (B)."""
    px, ids, tasks, spans = [], [], [], []
    for i in idx:
        s = ds.seqs[i]
        v = ds.slice(i) if ds.kind == "captions" else ds.volume(i)
        px.append(torch.from_numpy(v))
        ids.append(list(s["prompt"]) + list(s["answer"]))
        tasks.append(max(s["task"], 0))
        spans.append((len(s["prompt"]), len(s["answer"])))
    pixels = torch.stack(px)[:, :, None].expand(-1, -1, cin, -1, -1).contiguous().to(device)
    return pixels, ids, torch.tensor(tasks, device=device), spans


def targets(ids, spans, tv, t, device):
    """(B, T) next-token targets: position p predicts token p+1; only the
    answer's tokens count."""
    tg = torch.full((len(ids), t), -100, dtype=torch.long)
    for b, (lp, la) in enumerate(spans):
        start = lp - 1 + tv  # expanded prompt length
        ans = torch.tensor(ids[b][lp:], dtype=torch.long)
        tg[b, start - 1 : start - 1 + la] = ans
    return tg.to(device)


def balance_loss(routes, task, eg):
    """Switch-style load balancing within the chosen group: Eg . sum_e f_e p_e."""
    total = 0.0
    for ids, gates, probs, _ in routes:
        local = ids - (task * eg).view(-1, 1, 1)
        f = F.one_hot(local, eg).float().mean(dim=(1, 2))  # (B, Eg)
        p = probs.mean(1)
        total = total + eg * (f * p).sum(-1).mean()
    return total / max(len(routes), 1)


def fit_task_router(m, ds, steps, lr=0.05):
    """Fits the task router (a linear probe on the prompt's mean embedding)
    to convergence on the training prompts, the embeddings frozen, with
    class-balanced cross-entropy. During the stage it learns only through a
    small loss weight while the task used for routing is the label, so a
    rare task (reports are ~1 in 10 samples) can stay unlearnt; this is
    what fixes the router the engine uses at inference. Deterministic
    (full batch). Returns the training accuracy per task."""
    if not m.has_moe or steps <= 0:
        return {}
    with torch.no_grad():
        uniq = {}
        for s in ds.seqs:
            uniq.setdefault(tuple(s["prompt"]), s["task"])
        prompts = [list(p) for p in uniq]
        labels = torch.tensor(list(uniq.values()), device=m.task_router.weight.device)
        pool = m.text_pool(prompts).detach()
    g = m.cfg["moe"]["tasks"]
    counts = torch.bincount(labels, minlength=g).float()
    weight = torch.where(counts > 0, counts.sum() / (g * counts.clamp(min=1)), torch.zeros_like(counts))
    opt = torch.optim.Adam(m.task_router.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(m.task_router(pool), labels, weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = m.task_router(pool).argmax(-1)
    return {M.TASKS[t]: float((pred[labels == t] == t).float().mean()) for t in range(g) if counts[t] > 0}


# ---- evaluation --------------------------------------------------------------------


@torch.no_grad()
def evaluate(model, ds, cin, end_id, limit, device, max_new=64):
    """Teacher-forced loss on up to `limit` sequences, and greedy generation:
    closed-VQA exact match (the answer's ids up to <|end|>), report/open
    unigram F1 over ids, and the task router's accuracy; for captions,
    whether the model calls abnormal slices abnormal and normal ones normal."""
    model.eval()
    n = min(limit, len(ds))
    # a seeded sample, not a stride: a stride over captions (16 per case)
    # would pick the same slice of every case
    idx = sorted(np.random.RandomState(0).permutation(len(ds))[:n].tolist())
    tot, cnt = 0.0, 0
    exact = {0: [], 1: [], 2: []}
    f1 = {0: [], 1: [], 2: []}
    task_ok = []
    normal_tail = D.normal_caption_tail(ds) if ds.kind == "captions" else None
    found = {True: [], False: []}  # captions: truth -> predicted abnormal
    for i in idx:
        pixels, ids, task, spans = make_batch(ds, [i], cin, device)
        logits, lens, tl, chosen, _ = model(pixels, ids, task if model.has_moe else None, [lp for lp, _ in spans])
        tg = targets(ids, spans, model.tv, logits.shape[1], device)
        tot += F.cross_entropy(logits.view(-1, logits.shape[-1]), tg.view(-1), ignore_index=-100, reduction="sum").item()
        cnt += int((tg != -100).sum())
        if normal_tail:
            s = ds.seqs[i]
            got = generate(model, pixels[0], list(s["prompt"]), end_id, len(s["answer"]) + 8)
            found[bool(s.get("abnormal"))].append(got[-len(normal_tail) + 1 :] != normal_tail[:-1])
        if ds.kind != "samples":
            continue
        s = ds.seqs[i]
        want = list(s["answer"])
        got = generate(model, pixels[0], list(s["prompt"]), end_id, min(max_new, len(want) + 8))
        t = s["task"]
        if tl is not None:
            task_ok.append(int(tl.argmax(-1)[0]) == t)
        exact[t].append(got == want[:-1])
        f1[t].append(unigram_f1(got, want[:-1]))
    model.train()
    out = {"val_loss": tot / max(cnt, 1), "n": n}
    for t, name in enumerate(M.TASKS):
        if exact[t]:
            out[name + "_exact"] = float(np.mean(exact[t]))
            out[name + "_f1"] = float(np.mean(f1[t]))
            out[name + "_n"] = len(exact[t])
    if task_ok:
        out["task_router_acc"] = float(np.mean(task_ok))
    if found[True]:
        out["abnormal_slice_recall"] = float(np.mean(found[True]))
    if found[False]:
        out["normal_slice_specificity"] = 1.0 - float(np.mean(found[False]))
    return out


def generate(model, pixels, prompt, end_id, max_new):
    """Greedy ids until <|end|> (excluded), routed by the model's own task router."""
    visual, _, _, _ = model.encode(pixels[None], [prompt] if model.has_moe else None, None)
    ids = list(prompt)
    out = []
    for _ in range(max_new):
        x, _ = model.embed([ids], visual)
        nxt = int(model.decode(x)[0, -1].argmax())
        if nxt == end_id:
            break
        out.append(nxt)
        ids.append(nxt)
    return out


def unigram_f1(a, b):
    if not a or not b:
        return float(a == b)
    ca, cb = {}, {}
    for x in a:
        ca[x] = ca.get(x, 0) + 1
    for x in b:
        cb[x] = cb.get(x, 0) + 1
    common = sum(min(v, cb.get(k, 0)) for k, v in ca.items())
    if common == 0:
        return 0.0
    p, r = common / len(a), common / len(b)
    return 2 * p * r / (p + r)


# ---- one stage ------------------------------------------------------------------------


def save(path, obj):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def lr_at(step, total, base):
    warm = max(1, total // 20)
    if step < warm:
        return base * (step + 1) / warm
    p = (step - warm) / max(1, total - warm)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def build_stage_model(kind, init, cfg, prev):
    scfg = stage_config(cfg, kind)
    if init == "new":
        return M.CTLens(scfg)
    if init == "transfer":
        return M.transfer_3d(prev, scfg)
    if init == "add_moe":
        return M.add_moe(prev, scfg, seed=1)
    if init == "transfer_moe":
        return M.add_moe(M.transfer_3d(prev, stage_config(cfg, "3d")), scfg, seed=1)
    raise ValueError(init)


class FindingProbe(torch.nn.Module):
    """Training only (--finding-aux): a linear read-out of the finding
    labels (data.finding_labels: each kind, and each kind on each side)
    from the visual tokens the decoder sees, max-pooled over the tokens so
    that one token showing a finding is enough. Its loss gives the vision
    tower and projector a direct, dense signal of what is in the volume,
    which the answer loss gives only through a few answer tokens; it is not
    part of the exported model."""

    def __init__(self, width, labels, pos_weight):
        super().__init__()
        self.labels = list(labels)
        # the visual tokens' scale is free (their norm reached ~7,000 in the
        # demo run, the decoder's RMSNorm hides it); a read-out of raw tokens
        # saw logits jump by thousands a step and stayed at chance
        self.norm = torch.nn.LayerNorm(width, elementwise_affine=False)
        self.read = torch.nn.Linear(width, len(labels))
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, visual):
        return self.read(self.norm(visual)).amax(1)

    def loss(self, visual, target):
        return F.binary_cross_entropy_with_logits(self(visual), target, pos_weight=self.pos_weight)


def new_finding_probe(m, ds, state, device):
    """A probe for model m's visual tokens; positives weighted by the
    negatives' share (at most 10x) so rare labels are not learnt as
    "never"; the previous stage's weights when given."""
    y = torch.from_numpy(ds.finding_targets(range(len(ds))))
    pos = y.sum(0)
    pw = ((len(y) - pos) / pos.clamp(min=1)).clamp(max=10.0)
    probe = FindingProbe(m.cfg["text_config"]["hidden_size"], ds.labels, pw)
    if state is not None:
        probe.load_state_dict(state)
    return probe.to(device)


@torch.no_grad()
def evaluate_probe(m, probe, ds, cin, device):
    """Per finding kind, recall and specificity of the probe at logit 0 --
    whether the visual tokens hold the finding, apart from whether the
    decoder reads it: on one report prompt per validation case, or on
    (a seeded sample of up to 2,000) validation slices in stage 0."""
    m.eval()
    if ds.kind == "captions":
        rows = sorted(np.random.RandomState(0).permutation(len(ds))[:2000].tolist())
    else:
        first = {}  # case row -> its report sequence
        for i, s in enumerate(ds.seqs):
            if M.TASKS[s["task"]] == "report":
                first.setdefault(s["row"], i)
        rows = sorted(first.values())
    hits = {}
    for k in range(0, len(rows), 16):
        idx = rows[k : k + 16]
        pixels, ids, _, spans = make_batch(ds, idx, cin, device)
        prompts = [i[:lp] for i, (lp, _) in zip(ids, spans)]
        visual, _, _, _ = m.encode(pixels, prompts if m.has_moe else None, None)
        pred = (probe(visual) > 0).cpu().numpy()
        truth = ds.finding_targets(idx) > 0.5
        for j, name in enumerate(probe.labels):
            if "@" in name:
                continue
            h = hits.setdefault(name, [0, 0, 0, 0])  # tp, pos, tn, neg
            h[0] += int((pred[:, j] & truth[:, j]).sum())
            h[1] += int(truth[:, j].sum())
            h[2] += int((~pred[:, j] & ~truth[:, j]).sum())
            h[3] += int((~truth[:, j]).sum())
    m.train()
    return {n: {"recall": h[0] / max(h[1], 1), "specificity": h[2] / max(h[3], 1), "n": h[1]} for n, h in hits.items()}


def answer_loss(logits, tg, norm):
    """Next-token cross-entropy over the answer tokens: their mean over
    the batch ("token"), or each sequence's mean, then the mean over
    sequences ("sequence"), so that a one-letter closed answer weighs as
    much as a 70-token report, whose tokens are mostly template."""
    if norm == "token":
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tg.reshape(-1), ignore_index=-100)
    per = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tg.reshape(-1), ignore_index=-100,
                          reduction="none").view(tg.shape)
    valid = (tg != -100).float()
    return ((per * valid).sum(1) / valid.sum(1).clamp(min=1)).mean()


def run_stage(a, rank, world, device, si, stage, cfg, info, prev, log):
    name, kind, dkind, steps, init = stage
    sdir = os.path.join(a.out, name)
    os.makedirs(sdir, exist_ok=True)
    final = os.path.join(sdir, "final.pt")
    meta = {"data": os.path.abspath(a.data), "recipe": a.recipe, "size": a.size, "stage": name, "seed": a.seed}
    if os.path.exists(final):
        ck = torch.load(final, map_location="cpu")
        a.probe_state = ck.get("probe")
        m = M.CTLens(ck["cfg"])
        m.load_state_dict(ck["model"])
        if rank == 0:
            print("[%s] done earlier: %s" % (name, final), flush=True)
        return m.to(device)

    torch.manual_seed(a.seed + si)
    m = build_stage_model(kind, init, cfg, prev.cpu() if prev is not None else None).to(device)
    ds = D.Dataset(a.data, "train", dkind)
    if dkind == "captions" and a.abnormal_captions > 1:
        ds.repeat(D.states_abnormality, a.abnormal_captions)
    cin = cfg["vision_config"]["num_channels"]
    base_lr = a.lr * (a.lr0_mult if si == 0 else 1.0)
    probe = None
    if a.finding_aux > 0:
        if not ds.has_finding_labels():
            raise SystemExit("train: %s/train/%s.jsonl has no findings per line (built before they were added), which "
                             "--finding-aux needs in stage %s\nhint: rebuild it with `go run ./tools/dataset`" % (a.data, dkind, name))
        probe = new_finding_probe(m, ds, a.probe_state, device)
    fast = M.moe_param_names(m) if init == "add_moe" else None
    groups = [{"params": [], "mult": 1.0}, {"params": [], "mult": a.shared_lr_mult}]
    for n, p in m.named_parameters():
        groups[1 if (fast is not None and n not in fast) else 0]["params"].append(p)
    if probe is not None:
        groups[0]["params"].extend(probe.parameters())
    groups = [g for g in groups if g["params"]]
    opt = torch.optim.AdamW([{"params": g["params"], "lr": base_lr * g["mult"]} for g in groups],
                            lr=base_lr, weight_decay=a.weight_decay, betas=(0.9, 0.98))
    mults = [g["mult"] for g in groups]
    start = 0
    latest = os.path.join(sdir, "latest.pt")
    if os.path.exists(latest):
        ck = torch.load(latest, map_location="cpu")
        m.load_state_dict(ck["model"])
        if probe is not None:
            probe.load_state_dict(ck["probe"])
        opt.load_state_dict(ck["opt"])
        start = ck["step"]
        if rank == 0:
            print("[%s] resuming at step %d from %s" % (name, start, latest), flush=True)
    m.train()
    net = m
    if world > 1:
        ddp_kw = {"find_unused_parameters": m.has_moe}
        if device.type == "cuda":
            ddp_kw["device_ids"] = [device.index]
        net = torch.nn.parallel.DistributedDataParallel(m, **ddp_kw)
    gb = a.batch * world
    t0 = time.time()
    done0 = start
    for step in range(start, steps):
        lr = lr_at(step, steps, base_lr)
        for g, mu in zip(opt.param_groups, mults):
            g["lr"] = lr * mu
        idx = global_batch(len(ds), step, gb, a.seed, si)[rank * a.batch : (rank + 1) * a.batch]
        pixels, ids, task, spans = make_batch(ds, idx, cin, device)
        logits, lens, tl, chosen, routes, visual = net(pixels, ids, task if m.has_moe else None, [lp for lp, _ in spans],
                                                       with_visual=True)
        tg = targets(ids, spans, m.tv, logits.shape[1], device)
        ce = answer_loss(logits, tg, a.loss_norm)
        loss = ce
        aux = tce = fnd = torch.zeros((), device=device)
        if probe is not None:
            fnd = probe.loss(visual, torch.from_numpy(ds.finding_targets(idx)).to(device))
            loss = loss + a.finding_aux * fnd
        if m.has_moe:
            tce = F.cross_entropy(tl, task)
            aux = balance_loss(routes, task, cfg["moe"]["experts_per_task"])
            loss = loss + a.task_loss * tce + a.aux_loss * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if probe is not None and world > 1:  # the probe is outside DDP: average its gradients here
            for p in probe.parameters():
                dist.all_reduce(p.grad)
                p.grad /= world
        torch.nn.utils.clip_grad_norm_(list(m.parameters()) + (list(probe.parameters()) if probe is not None else []), 1.0)
        opt.step()
        if rank == 0:
            el = time.time() - t0
            sps = (step + 1 - done0) / max(el, 1e-9)
            rec = {"stage": name, "step": step + 1, "steps": steps, "loss": loss.item(), "ce": ce.item(),
                   "task_ce": tce.item(), "aux": aux.item(), "finding": fnd.item(), "lr": lr, "steps_per_s": sps, "time": time.time()}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            if (step + 1) % a.log_every == 0 or step + 1 == steps:
                eta = (steps - step - 1) / max(sps, 1e-9)
                bar = "#" * int(20 * (step + 1) / steps)
                print("[%s] %-20s %d/%d loss %.4f (ce %.4f task %.3f aux %.3f finding %.3f) lr %.2e %.2f step/s eta %s" % (
                    name, bar, step + 1, steps, loss.item(), ce.item(), tce.item(), aux.item(), fnd.item(), lr, sps,
                    datetime.timedelta(seconds=int(eta))), flush=True)
        if (step + 1) % a.ckpt_every == 0 and step + 1 < steps:
            if rank == 0:
                save(latest, {"cfg": m.cfg, "model": m.state_dict(), "opt": opt.state_dict(), "step": step + 1, "meta": meta,
                              "probe": probe.state_dict() if probe is not None else None})
            if world > 1:
                dist.barrier()
        a.steps_done += 1
        if a.stop_after and a.steps_done >= a.stop_after:
            raise StopRun()
    if m.has_moe and a.router_fit_steps > 0:
        acc = fit_task_router(m, ds, a.router_fit_steps)  # every rank: the same full batch, the same result
        if rank == 0:
            print("[%s] task router fitted (%d steps): training prompts routed right %s" % (name, a.router_fit_steps, json.dumps(acc)), flush=True)
    if rank == 0:
        ev = evaluate(m, D.Dataset(a.data, "val", dkind), cin, info["end_token_id"],
                      a.eval_n, device)
        ev.update({"stage": name, "steps": steps})
        if probe is not None:
            ev["finding_probe"] = evaluate_probe(m, probe, D.Dataset(a.data, "val", dkind), cin, device)
        print("[%s] eval %s" % (name, json.dumps(ev)), flush=True)
        log.write(json.dumps(dict(ev, event="eval")) + "\n")
        log.flush()
        with open(os.path.join(sdir, "eval.json"), "w") as f:
            json.dump(ev, f, indent=1)
        save(final, {"cfg": m.cfg, "model": m.state_dict(), "step": steps, "meta": meta, "eval": ev,
                     "probe": probe.state_dict() if probe is not None else None})
        if os.path.exists(latest):
            os.remove(latest)
    if world > 1:
        dist.barrier()
    a.probe_state = probe.state_dict() if probe is not None else None
    return m


class StopRun(Exception):
    """--stop-after reached: the run ends as if interrupted."""


# ---- ranks ----------------------------------------------------------------------------


def worker(rank, world, a, env_init=False):
    if a.device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
        torch.set_num_threads(a.threads or max(1, (os.cpu_count() or 1) // world))
        if rank == 0:
            warn_reference_blas()
    if world > 1:
        backend = "nccl" if a.device == "cuda" else "gloo"
        dist.init_process_group(backend, init_method="env://", rank=rank, world_size=world,
                                timeout=datetime.timedelta(minutes=30))
    info = model_info(D.read_meta(a.data))
    with open(os.path.join(a.out, "config.json")) as f:
        cfg = json.load(f)
    log = open(os.path.join(a.out, "log.jsonl"), "a") if rank == 0 else None
    prev = None
    a.steps_done = 0
    a.probe_state = None
    try:
        for si, stage in enumerate(recipe_stages(a.recipe, a.steps)):
            prev = run_stage(a, rank, world, device, si, stage, cfg, info, prev, log)
    except StopRun:
        if rank == 0:
            print("train: stopped after %d steps (--stop-after); --resume continues" % a.steps_done, flush=True)
            log.close()
        if world > 1:
            dist.destroy_process_group()
        return
    if rank == 0:
        last = os.path.join(a.out, recipe_stages(a.recipe, a.steps)[-1][0], "final.pt")
        print("train: done; the model is %s\nexport: /usr/bin/python3 tools/train/export.py %s --out DIR" % (last, last), flush=True)
        log.close()
    if world > 1:
        dist.destroy_process_group()


def blas_library():
    """The BLAS shared library this process mapped (Linux), or ""."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if os.path.basename(path).startswith(("libblas.", "libopenblas", "libmkl_rt", "libblis")):
                    return path
    except OSError:
        pass
    return ""


def warn_reference_blas():
    """Debian's torch links libblas.so.3, which is the netlib reference
    implementation unless an optimised one is installed: matrix products
    then run ~30x slower (6 vs 190 GFLOPS on 2 cores), so say so."""
    lib = blas_library()
    if lib and "openblas" not in lib and "mkl" not in lib and "blis" not in lib:
        print("train: warning: PyTorch uses the reference BLAS (%s), ~30x slower on the CPU\n"
              "hint: sudo apt-get install libopenblas0-openmp" % lib, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_steps(s, size):
    steps = dict(DEFAULT_STEPS[size])
    for part in filter(None, (s or "").split(",")):
        k, v = part.split(":")
        steps[int(k)] = int(v)
    return steps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="dataset directory (go run ./tools/dataset)")
    ap.add_argument("--out", required=True, help="run directory: config, tokens, stages, checkpoints, log.jsonl")
    ap.add_argument("--recipe", default="two-stage", help="two-stage | one-stage | 3d | 2d")
    ap.add_argument("--size", default="demo", choices=sorted(SIZES))
    ap.add_argument("--steps", default="", help="steps per stage, e.g. 0:300,1:600,2:400")
    ap.add_argument("--batch", type=int, default=0, help="sequences per rank per step (default: the size's)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr0-mult", type=float, default=1.0, help="stage 0's rate relative to --lr")
    ap.add_argument("--shared-lr-mult", type=float, default=0.1, help="stage 2: rate of the shared parts relative to the experts'")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--task-loss", type=float, default=0.1, help="weight of the task router's cross-entropy")
    ap.add_argument("--aux-loss", type=float, default=0.01, help="weight of the MoE load-balancing loss")
    ap.add_argument("--router-fit-steps", type=int, default=300,
                    help="after an MoE stage, fit the task router on the training prompts for this many full-batch steps")
    ap.add_argument("--loss-norm", default="token", choices=["token", "sequence"],
                    help="answer loss: mean over all answer tokens, or over each sequence's tokens then over sequences")
    ap.add_argument("--finding-aux", type=float, default=0.0,
                    help="weight of the finding probe's loss on the visual tokens, every stage (0: none; training only)")
    ap.add_argument("--abnormal-captions", type=int, default=1,
                    help="stage 0: each caption that states an abnormality appears this many times per epoch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ranks", type=int, default=1, help="data-parallel ranks to spawn (ignored under torchrun)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads per rank (default: cores / ranks)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-n", type=int, default=60, help="validation sequences evaluated after each stage")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    ap.add_argument("--smoke", action="store_true", help="a few steps of the smoke size (CI)")
    ap.add_argument("--stop-after", type=int, default=0, help="end after this many steps in all, as if interrupted (tests)")
    a = ap.parse_args(argv)
    if a.smoke:
        a.size = "smoke"
        a.ckpt_every = min(a.ckpt_every, 2)
        a.log_every = 1
        a.eval_n = min(a.eval_n, 4)
    a.steps = parse_steps(a.steps, a.size)
    a.batch = a.batch or SIZES[a.size]["batch"]

    # Only the launching process prepares the run directory.
    env_rank = os.environ.get("RANK")
    if env_rank is None or env_rank == "0":
        prepare(a)
    if env_rank is not None:  # torchrun: this process is one rank, env:// set up
        while not os.path.exists(os.path.join(a.out, "config.json")):
            time.sleep(1)
        worker(int(env_rank), int(os.environ["WORLD_SIZE"]), a, env_init=True)
        return
    if a.ranks > 1:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(free_port()))
        mp.spawn(worker, args=(a.ranks, a), nprocs=a.ranks, join=True)
    else:
        worker(0, 1, a)


def prepare(a):
    """Writes the run's config.json (the 3D TGH-MoE model every stage
    derives from, sized for the dataset) and run.json (the settings a
    --resume must repeat)."""
    run_json = os.path.join(a.out, "run.json")
    args = {k: v for k, v in vars(a).items() if k not in ("resume", "stop_after")}
    args["steps"] = {str(k): v for k, v in a.steps.items()}
    if os.path.exists(run_json):
        if not a.resume:
            raise SystemExit("train: %s holds a run already\nhint: --resume continues it; or choose a new --out" % a.out)
        with open(run_json) as f:
            old = json.load(f)
        if old != args:
            diff = sorted(k for k in set(old) | set(args) if old.get(k) != args.get(k))
            raise SystemExit("train: --resume with different settings (%s) than %s" % (", ".join(diff), run_json))
        return
    meta = D.read_meta(a.data)
    d, h, w = meta["size"]
    if h != w:
        raise SystemExit("train: %s has %dx%d slices; the model takes square slices" % (a.data, h, w))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(make_config(a.size, model_info(meta), d, h), f, indent=1)
    with open(run_json, "w") as f:
        json.dump(args, f, indent=1)


def model_info(meta):
    """What the config takes from the dataset: vocabulary, ids, prompt, norm."""
    t, p = meta["tokenizer"], meta["prompt"]
    return {"vocab_size": t["vocab_size"], "bos_token_id": t["bos_id"], "eos_token_id": t["eos_id"],
            "end_token_id": t["end_id"], "input_norm": meta.get("input_norm"),
            "prompt": {k: p[k] for k in ("template", "image_token", "stop_tokens", "report_prompt")}}


if __name__ == "__main__":
    main()
