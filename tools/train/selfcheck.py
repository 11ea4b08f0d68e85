#!/usr/bin/python3
"""Checks of model.py that need no data (tools/train's Go tests run it):

- the 2D->3D transfer reuses every 2D parameter and adds none, and a volume
  whose slices attend within themselves gives, per slice, the 2D model's
  visual tokens;
- stage 2's MoE initialisation computes exactly the dense model it starts
  from (experts copied, fc2 halved beside the shared expert, routers zero);
- routing follows the engine: ties go to the lower expert (moe_route's
  (value desc, index asc) order), the task router's argmax to the lower
  group, and the rotary pairs dims (i, i + rot/2) (shaders/rope_ref.go).
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import train as T  # noqa: E402


def close(a, b, tol, what):
    d = (a - b).abs().max().item()
    scale = b.abs().max().item()
    if not d <= tol * max(scale, 1.0):
        raise SystemExit("selfcheck: %s: max |diff| %.3g (scale %.3g)" % (what, d, scale))
    return d


def main():
    torch.manual_seed(0)
    info = {"vocab_size": 97, "bos_token_id": 1, "eos_token_id": 0, "end_token_id": 2,
            "prompt": {"template": "<|user|>\n<|image_1|>\n{prompt}<|end|>\n<|assistant|>\n", "image_token": "<|image_1|>",
                       "stop_tokens": ["<|end|>"], "report_prompt": "r"}}
    cfg = T.make_config("smoke", info, 4, 32)
    d, hw = 4, 32
    px = torch.rand(2, d, 1, hw, hw)
    prompts = [[1, 5, M.IMAGE_SLOT, 7, 8, 9], [1, M.IMAGE_SLOT, 20, 21]]

    # transfer: same parameters; a 2D-attention volume == the 2D model per slice
    m2 = M.CTLens(T.stage_config(cfg, "2d1")).eval()
    m3 = M.transfer_3d(m2, T.stage_config(cfg, "3d")).eval()
    for (n2, p2), (n3, p3) in zip(m2.named_parameters(), m3.named_parameters()):
        assert n2 == n3 and torch.equal(p2, p3), (n2, n3)
    assert sum(1 for _ in m2.parameters()) == sum(1 for _ in m3.parameters())
    cfg_nodp = T.stage_config(cfg, "2d")
    cfg_nodp["projector"]["depth_pool"] = 1
    mflat = M.transfer_3d(m2, cfg_nodp).eval()
    with torch.no_grad():
        vol, _, _, _ = mflat.encode(px)
        per = torch.cat([m2.encode(px[:, z : z + 1])[0] for z in range(d)], dim=1)
    dv = close(vol, per, 1e-5, "2D attention over a volume vs the 2D model per slice")

    # MoE init == the dense model
    mm = M.add_moe(m3, T.stage_config(cfg, "moe"), seed=1).eval()
    ids = [p + [3, 4, 5] for p in prompts]
    with torch.no_grad():
        ld = m3(px, ids)[0]
        for task in range(3):
            lm = mm(px, ids, torch.tensor([task, task]), [len(p) for p in prompts])[0]
            dm = close(lm, ld, 1e-5, "MoE at initialisation vs the dense model (task %d)" % task)

    # the router pools the prompt only, as at inference: the answer after it
    # must not change the routing (nor so the visual tokens)
    with torch.no_grad():
        other = [p + [11, 12] for p in prompts]
        lens = [len(p) for p in prompts]
        ta, va = mm(px, ids, None, lens, with_visual=True)[2::3]
        tb, vb = mm(px, other, None, lens, with_visual=True)[2::3]
        tc = mm.encode(px, prompts)[1]
        close(ta, tc, 0, "task logits in training vs the prompt alone")
        close(tb, tc, 0, "task logits with another answer")
        close(va, vb, 0, "visual tokens with another answer")
    try:
        mm(px, ids)
        raise SystemExit("selfcheck: the MoE forward ran without prompt lengths")
    except ValueError:
        pass

    # the finding probe: max over tokens, so one token is enough
    probe = T.FindingProbe(4, ["a", "b"], torch.ones(2))
    with torch.no_grad():
        probe.read.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
        probe.read.bias.zero_()
        vis = torch.tensor([[[0.0, 0, 1, -1], [0, 0, 1, -1], [3, 0, 0, -3]]]) * 1000  # any scale
        got = probe(vis)
    close(got, torch.tensor([[math.sqrt(2), 0.0]]), 1e-5, "finding probe: normalised tokens, max over them")

    # ties: zero routers pick experts 0..k-1 of the chosen group
    moe = mm.vision.encoder.layers[cfg["moe"]["layers"][0]].moe[0]
    x = torch.randn(2, 5, cfg["vision_config"]["hidden_size"])
    with torch.no_grad():
        moe.router.weight.zero_()
        tproj = torch.randn(2, cfg["moe"]["router_text_dim"])
        ids_, gates, probs, _ = moe.route(x, tproj, torch.tensor([2, 0]))
    eg, k = cfg["moe"]["experts_per_task"], cfg["moe"]["top_k"]
    want = torch.arange(k)
    assert torch.equal(ids_[0, 0], want + 2 * eg) and torch.equal(ids_[1, 0], want), ids_[:, 0]
    assert torch.allclose(gates.sum(-1), torch.ones(2, 5)), "renormalised gates sum to one"
    tl = torch.tensor([[0.5, 0.5, 0.1]])
    assert int(tl.argmax(-1)) == 0, "argmax ties go to the lower index"

    # rotary: pairs (i, i + rot/2), angle pos * inv_freq[i]
    h, dh, rot = 2, 8, 8
    q = torch.randn(3, h, dh)
    freqs = M.inv_freq(10000.0, rot)
    got = M.rope(q, torch.arange(3), freqs, rot)
    ref = q.clone()
    for p in range(3):
        for i in range(rot // 2):
            a = p * freqs[i].item()
            c, s = math.cos(a), math.sin(a)
            ref[p, :, i] = q[p, :, i] * c - q[p, :, i + rot // 2] * s
            ref[p, :, i + rot // 2] = q[p, :, i + rot // 2] * c + q[p, :, i] * s
    dr = close(got, ref, 1e-6, "rotary against the half-split reference")

    # answer loss: "sequence" is the mean of per-sequence means, "token" the
    # mean over all answer tokens (they differ when lengths differ)
    lg = torch.randn(2, 6, 11)
    tg = torch.full((2, 6), -100, dtype=torch.long)
    tg[0, 1:2] = torch.tensor([3])           # a one-token answer
    tg[1, 0:5] = torch.tensor([1, 2, 3, 4, 5])
    per = [torch.nn.functional.cross_entropy(lg[b][tg[b] != -100], tg[b][tg[b] != -100]) for b in range(2)]
    close(T.answer_loss(lg, tg, "sequence"), (per[0] + per[1]) / 2, 1e-6, "sequence-normalised answer loss")
    allv = tg != -100
    close(T.answer_loss(lg, tg, "token"), torch.nn.functional.cross_entropy(lg[allv], tg[allv]), 1e-6, "token-normalised answer loss")
    assert abs(T.answer_loss(lg, tg, "sequence").item() - T.answer_loss(lg, tg, "token").item()) > 1e-4

    # repeat: abnormal captions appear k times, appended in order
    import data as D
    ds = D.Dataset.__new__(D.Dataset)
    ds.seqs = [{"abnormal": a, "i": i} for i, a in enumerate([False, True, False, True])]
    ds.repeat(D.states_abnormality, 3)
    assert [s["i"] for s in ds.seqs] == [0, 1, 2, 3, 1, 3, 1, 3], [s["i"] for s in ds.seqs]
    ds.seqs = [{"abnormal": False, "answer": [9, 5, 7, 8, 4]}, {"abnormal": False, "answer": [6, 7, 8, 4]},
               {"abnormal": True, "answer": [6, 2, 8, 4]}]
    assert D.normal_caption_tail(ds) == [7, 8, 4], D.normal_caption_tail(ds)
    # finding labels: each kind, then the kind on each side
    assert D.finding_labels({"findings": [{"kind": "x"}, {"kind": "y"}]}) == ["x", "x@left", "x@right", "y", "y@left", "y@right"]
    print("selfcheck ok: transfer per-slice max|diff| %.2g, MoE init vs dense %.2g, rope %.2g" % (dv, dm, dr))


if __name__ == "__main__":
    main()
