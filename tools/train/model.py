"""The ctlens model in PyTorch, computed exactly as the Go engine computes it.

This is the training twin of ctlens/model (vision.go, llm.go, model.go) and
of the CPU references in ctlens/shaders: the same config (a model.Config
JSON, not a Hugging Face config), the same tensor names (model/weights.go),
the same conventions:

- vision: CLIP pre-LN blocks, patch conv without bias, class token, learned
  positions, pre_layrnorm, features = hidden_states[feature_layer];
- 2D->3D transfer: layers below layers_3d_from attend within a slice
  (batch = D), later ones across all slices as one sequence, with a 1D
  rotary over the slice index on q and k (half-split pairs (i, i+rot/2), as
  HF and shaders/rope_ref.go);
- TGH-MoE: text pool = mean of the prompt's input embeddings (the image
  slot excluded, the template's tokens included), a linear task router
  (argmax, ties to the lower index), a text projection P; per token router
  logits W.[x ; P.pool] + b within the chosen group, softmax, top-k by
  (value desc, index asc), gates renormalised over the chosen k when
  configured, output = shared expert(x) + sum gates.expert(x);
- projector: per slice 2x2 merge (class token dropped, order (0,0) (0,1)
  (1,0) (1,1)), depth pooling (mean of consecutive slices), Linear, GELU
  (erf), Linear; no separators (sub_GN/glb_GN are not trained here);
- decoder: Phi-3 (RMSNorm, fused qkv_proj, GQA, RoPE half-split, fused
  gate_up_proj with the gate first, SwiGLU, down_proj), untied or tied head.

Shapes: B batch, D slices, S tokens per slice, Cv vision width, C decoder
width, T sequence, V vocabulary, G task groups, Eg experts per group.
"""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

TASKS = ["report", "closed_vqa", "open_vqa"]
IMAGE_SLOT = -1

# ---- config helpers -----------------------------------------------------------


def run_layers(cfg):
    """Vision layers that run to reach feature_layer (VisionConfig.RunLayers)."""
    v = cfg["vision_config"]
    fl = v["feature_layer"]
    return v["num_hidden_layers"] + 1 + fl if fl < 0 else fl


def slices(cfg):
    return max(cfg["transfer_3d"].get("slices", 1), 1)


def grid(cfg):
    v = cfg["vision_config"]
    return v["image_size"] // v["patch_size"]


def tokens_per_slice(cfg):
    return grid(cfg) ** 2 + (1 if cfg["vision_config"].get("class_token") else 0)


def visual_tokens(cfg):
    """Tv without separators: pooled slices x merged grid."""
    g = grid(cfg) // 2
    dp = max(cfg["projector"].get("depth_pool", 1), 1)
    return slices(cfg) // dp * g * g


def is_3d(cfg, layer):
    t = cfg["transfer_3d"]
    return bool(t.get("enabled")) and layer >= t.get("layers_3d_from", 0)


def moe_layers(cfg):
    return list(cfg.get("moe", {}).get("layers") or [])


def head_dim_llm(cfg):
    t = cfg["text_config"]
    return t.get("head_dim") or t["hidden_size"] // t["num_attention_heads"]


def act_fn(name):
    if name in ("gelu",):
        return lambda x: F.gelu(x)  # erf, shaders.ActGELUErf
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name == "silu":
        return F.silu
    raise ValueError("unknown activation %r" % name)


def inv_freq(theta, rot):
    """shaders.RoPEInvFreq without factors: 1/theta^(2i/rot) in float64, rounded once."""
    i = torch.arange(rot // 2, dtype=torch.float64)
    return (1.0 / torch.pow(torch.tensor(theta, dtype=torch.float64), 2 * i / rot)).to(torch.float32)


def rope(x, pos, freqs, rot):
    """Rotates the first rot dims of every head of x (..., T, H, Dh) in pairs
    (i, i + rot/2) by angle pos * freqs[i] (f32 product, as the kernel)."""
    half = rot // 2
    ang = pos.to(torch.float32)[:, None] * freqs[None, :]  # (T, rot/2)
    c = torch.cos(ang)[:, None, :]
    s = torch.sin(ang)[:, None, :]
    x0, x1, rest = x[..., :half], x[..., half:rot], x[..., rot:]
    return torch.cat([x0 * c - x1 * s, x1 * c + x0 * s, rest], dim=-1)


# ---- vision tower -------------------------------------------------------------


class FFN(nn.Module):
    """fc2(act(fc1 x)): the CLIP MLP, a shared expert, or a routed expert."""

    def __init__(self, cv, fv, act):
        super().__init__()
        self.fc1 = nn.Linear(cv, fv)
        self.fc2 = nn.Linear(fv, cv)
        self.act = act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class MoE(nn.Module):
    """Level 2 of the TGH-MoE: token routers and G.Eg experts. The shared
    expert is the layer's own mlp (VisionLayer.mlp), not here."""

    def __init__(self, cfg, act):
        super().__init__()
        v, m = cfg["vision_config"], cfg["moe"]
        cv, fv = v["hidden_size"], v["intermediate_size"]
        self.g, self.eg, self.k = m["tasks"], m["experts_per_task"], m["top_k"]
        self.dt = m.get("router_text_dim", 0)
        self.renorm = bool(m.get("renormalize"))
        self.router = nn.Linear(cv + self.dt, self.g * self.eg)
        self.experts = nn.ModuleList([FFN(cv, fv, act) for _ in range(self.g * self.eg)])

    def route(self, x, tproj, task):
        """x (B, N, Cv) layer-normed tokens, tproj (B, Dt) or None, task (B)
        long. Returns ids (B, N, K) global expert ids, gates (B, N, K),
        probs (B, N, Eg) and the full logits (B, N, G.Eg)."""
        w = self.router.weight
        logits = F.linear(x, w[:, : x.shape[-1]])
        tb = self.router.bias
        if self.dt > 0:
            tb = tb + F.linear(tproj, w[:, x.shape[-1] :])  # (B, G.Eg)
            logits = logits + tb[:, None, :]
        else:
            logits = logits + tb
        b, n, _ = logits.shape
        grp = logits.view(b, n, self.g, self.eg)
        idx = task.view(b, 1, 1, 1).expand(b, n, 1, self.eg)
        gl = grp.gather(2, idx).squeeze(2)  # (B, N, Eg) the chosen group's logits
        probs = torch.softmax(gl, dim=-1)
        # top-k by (value desc, index asc): a stable descending sort
        _, order = torch.sort(gl.detach(), dim=-1, descending=True, stable=True)
        sel = order[..., : self.k]
        sp = probs.gather(-1, sel)
        gates = sp / sp.sum(-1, keepdim=True) if self.renorm else sp
        ids = sel + (task * self.eg).view(b, 1, 1)
        return ids, gates, probs, logits

    def forward(self, x, tproj, task):
        ids, gates, probs, logits = self.route(x, tproj, task)
        b, n, cv = x.shape
        flat = x.reshape(b * n, cv)
        fid = ids.reshape(b * n, self.k)
        fg = gates.reshape(b * n, self.k)
        out = torch.zeros_like(flat)
        for e in torch.unique(fid).tolist():
            rows, slot = (fid == e).nonzero(as_tuple=True)
            y = self.experts[e](flat[rows])
            out = out.index_add(0, rows, y * fg[rows, slot][:, None])
        return out.view(b, n, cv), (ids, gates, probs, logits)


class VisionLayer(nn.Module):
    """One pre-LN CLIP block (HF CLIPEncoderLayer names)."""

    def __init__(self, cfg, layer):
        super().__init__()
        v = cfg["vision_config"]
        cv, fv = v["hidden_size"], v["intermediate_size"]
        eps = v["layer_norm_eps"]
        act = act_fn(v["hidden_act"])
        self.layer_norm1 = nn.LayerNorm(cv, eps=eps)
        self.self_attn = nn.Module()
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self.self_attn, n, nn.Linear(cv, cv))
        self.layer_norm2 = nn.LayerNorm(cv, eps=eps)
        self.moe_layer = layer in moe_layers(cfg)
        shared = (not self.moe_layer) or cfg["moe"].get("shared_expert", False)
        # HF's names: the dense MLP (the shared expert in an MoE layer) is
        # mlp.fc1/fc2, the MoE mlp.router and mlp.experts.j.
        self.mlp = nn.Module()
        if shared:
            self.mlp.fc1 = nn.Linear(cv, fv)
            self.mlp.fc2 = nn.Linear(fv, cv)
        if self.moe_layer:
            m = MoE(cfg, act)
            self.mlp.router = m.router
            self.mlp.experts = m.experts
            self.moe = [m]  # a list: not registered twice
        self.shared = shared
        self.act = act
        self.heads = v["num_attention_heads"]
        self.is3d = is_3d(cfg, layer)

    def forward(self, x, d, s, rope_freqs, rot, tproj, task):
        """x (B, D.S, Cv)."""
        b, n, cv = x.shape
        h = self.layer_norm1(x)
        a = self.self_attn
        dh = cv // self.heads
        q, k, v = a.q_proj(h), a.k_proj(h), a.v_proj(h)
        q, k, v = (t.view(b, n, self.heads, dh) for t in (q, k, v))
        if self.is3d:
            if rope_freqs is not None:
                pos = torch.arange(n, device=x.device) // s
                q, k = rope(q, pos, rope_freqs, rot), rope(k, pos, rope_freqs, rot)
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, D.S, Dh)
        else:
            q, k, v = (t.reshape(b * d, s, self.heads, dh).transpose(1, 2) for t in (q, k, v))
        att = torch.softmax((q @ k.transpose(-1, -2)) * (1 / math.sqrt(dh)), dim=-1) @ v
        att = att.transpose(1, 2).reshape(b, n, cv)
        x = x + a.out_proj(att)
        h = self.layer_norm2(x)
        y = 0
        if self.shared:
            y = self.mlp.fc2(self.act(self.mlp.fc1(h)))
        route = None
        if self.moe_layer:
            ym, route = self.moe[0](h, tproj, task)
            y = y + ym
        return x + y, route


class Vision(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v = cfg["vision_config"]
        cv, p, cin = v["hidden_size"], v["patch_size"], v["num_channels"]
        self.cfg = cfg
        self.embeddings = nn.Module()
        self.embeddings.patch_embedding = nn.Conv2d(cin, cv, p, stride=p, bias=False)
        self.cls = bool(v.get("class_token"))
        if self.cls:
            self.embeddings.class_embedding = nn.Parameter(torch.randn(cv) * 0.02)
        self.embeddings.position_embedding = nn.Embedding(tokens_per_slice(cfg), cv)
        self.pre_layrnorm = nn.LayerNorm(cv, eps=v["layer_norm_eps"])
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList([VisionLayer(cfg, l) for l in range(run_layers(cfg))])
        t = cfg["transfer_3d"]
        self.rot = 0
        if t.get("enabled") and t.get("slice_rope"):
            self.rot = t.get("slice_rope_dim") or cv // v["num_attention_heads"]
            self.register_buffer("slice_freqs", inv_freq(t["slice_rope_theta"], self.rot), persistent=False)
        else:
            self.slice_freqs = None

    def forward(self, pixels, tproj=None, task=None):
        """pixels (B, D, Cin, H, W) -> hidden (B, D.S, Cv), routes."""
        b, d = pixels.shape[:2]
        e = self.embeddings
        x = e.patch_embedding(pixels.flatten(0, 1))  # (B.D, Cv, g, g)
        x = x.flatten(2).transpose(1, 2)  # (B.D, g.g, Cv)
        if self.cls:
            x = torch.cat([e.class_embedding.expand(x.shape[0], 1, -1), x], dim=1)
        x = x + e.position_embedding.weight[None]
        s = x.shape[1]
        x = self.pre_layrnorm(x).reshape(b, d * s, -1)
        routes = []
        for layer in self.encoder.layers:
            x, r = layer(x, d, s, self.slice_freqs, self.rot, tproj, task)
            if r is not None:
                routes.append(r)
        return x, routes


# ---- decoder --------------------------------------------------------------------


class RMSNorm(nn.Module):
    def __init__(self, c, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class LLMLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        t = cfg["text_config"]
        c, h, hkv, f = t["hidden_size"], t["num_attention_heads"], t["num_key_value_heads"], t["intermediate_size"]
        dh = head_dim_llm(cfg)
        self.h, self.hkv, self.dh, self.f = h, hkv, dh, f
        self.input_layernorm = RMSNorm(c, t["rms_norm_eps"])
        self.self_attn = nn.Module()
        self.self_attn.qkv_proj = nn.Linear(c, (h + 2 * hkv) * dh, bias=False)
        self.self_attn.o_proj = nn.Linear(h * dh, c, bias=False)
        self.post_attention_layernorm = RMSNorm(c, t["rms_norm_eps"])
        self.mlp = nn.Module()
        self.mlp.gate_up_proj = nn.Linear(c, 2 * f, bias=False)
        self.mlp.down_proj = nn.Linear(f, c, bias=False)

    def forward(self, x, freqs, rot, mask):
        b, t, _ = x.shape
        h, hkv, dh = self.h, self.hkv, self.dh
        qkv = self.self_attn.qkv_proj(self.input_layernorm(x))
        q = qkv[..., : h * dh].view(b, t, h, dh)
        k = qkv[..., h * dh : (h + hkv) * dh].view(b, t, hkv, dh)
        v = qkv[..., (h + hkv) * dh :].view(b, t, hkv, dh)
        pos = torch.arange(t, device=x.device)
        q, k = rope(q, pos, freqs, rot), rope(k, pos, freqs, rot)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        if hkv != h:
            k = k.repeat_interleave(h // hkv, dim=1)
            v = v.repeat_interleave(h // hkv, dim=1)
        s = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(dh)) + mask
        att = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, h * dh)
        x = x + self.self_attn.o_proj(att)
        gu = self.mlp.gate_up_proj(self.post_attention_layernorm(x))
        x = x + self.mlp.down_proj(F.silu(gu[..., : self.f]) * gu[..., self.f :])
        return x


# ---- the whole model ---------------------------------------------------------------


class CTLens(nn.Module):
    """Vision tower + TGH-MoE + projector + decoder. Parameter names follow
    model/weights.go after the prefixes in NAMES (see export_state)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = copy.deepcopy(cfg)
        v, t = cfg["vision_config"], cfg["text_config"]
        cv, c = v["hidden_size"], t["hidden_size"]
        if cfg["projector"].get("sub_separator") or cfg["projector"].get("glb_separator"):
            raise ValueError("tools/train does not train the sub_GN/glb_GN separators; set them false")
        self.vision = Vision(cfg)
        self.img_projection = nn.Sequential(nn.Linear(4 * cv, c), nn.Identity(), nn.Linear(c, c))
        self.proj_act = act_fn(cfg["projector"]["hidden_act"])
        self.embed_tokens = nn.Embedding(t["vocab_size"], c)
        self.layers = nn.ModuleList([LLMLayer(cfg) for _ in range(t["num_hidden_layers"])])
        self.norm = RMSNorm(c, t["rms_norm_eps"])
        self.tied = bool(t.get("tie_word_embeddings"))
        if not self.tied:
            self.lm_head = nn.Linear(c, t["vocab_size"], bias=False)
        if t.get("rope_scaling"):
            raise ValueError("tools/train does not train LongRoPE models (rope_scaling must be null)")
        self.rot = head_dim_llm(cfg)
        pr = t.get("partial_rotary_factor") or 0
        if 0 < pr < 1:
            self.rot = int(self.rot * pr) & ~1
        self.register_buffer("freqs", inv_freq(t["rope_theta"], self.rot), persistent=False)
        m = cfg.get("moe", {})
        self.has_moe = bool(moe_layers(cfg))
        if self.has_moe:
            self.task_router = nn.Linear(c, m["tasks"])
            self.text_proj = nn.Linear(c, m["router_text_dim"]) if m.get("router_text_dim", 0) > 0 else None
        self.tv = visual_tokens(cfg)

    # -- level 1 of the TGH-MoE
    def text_pool(self, prompts):
        """prompts: list of lists of ids with IMAGE_SLOT. Mean of the text
        tokens' embeddings, (B, C)."""
        pools = []
        for p in prompts:
            ids = torch.tensor([i for i in p if i != IMAGE_SLOT], dtype=torch.long, device=self.embed_tokens.weight.device)
            pools.append(self.embed_tokens(ids).mean(0))
        return torch.stack(pools)

    def route_text(self, prompts, task=None):
        """Task logits (B, G), the task used (forced, else the argmax) and the
        projected pool (B, Dt) or None."""
        pool = self.text_pool(prompts)
        tl = self.task_router(pool)
        chosen = tl.detach().argmax(-1) if task is None else task  # argmax: first max wins, as task_route
        tproj = self.text_proj(pool) if self.text_proj is not None else None
        return tl, chosen, tproj

    def encode(self, pixels, prompts=None, task=None):
        """pixels (B, D, Cin, H, W) -> visual tokens (B, Tv, C), task logits, routes."""
        tl, chosen, tproj = None, None, None
        if self.has_moe:
            tl, chosen, tproj = self.route_text(prompts, task)
        x, routes = self.vision(pixels, tproj, chosen)
        cfg = self.cfg
        b, d = pixels.shape[:2]
        s, g = tokens_per_slice(cfg), grid(cfg)
        cv = x.shape[-1]
        x = x.view(b, d, s, cv)
        if self.vision.cls:
            x = x[:, :, 1:]
        x = x.reshape(b, d, g // 2, 2, g // 2, 2, cv).permute(0, 1, 2, 4, 3, 5, 6)
        x = x.reshape(b, d, (g // 2) ** 2, 4 * cv)  # 2x2 merge
        dp = max(cfg["projector"].get("depth_pool", 1), 1)
        if dp > 1:
            x = x.view(b, d // dp, dp, -1, 4 * cv).mean(2)
        x = x.reshape(b, -1, 4 * cv)
        p = self.img_projection
        y = p[2](self.proj_act(p[0](x)))
        return y, tl, chosen, routes

    def embed(self, ids_list, visual):
        """Embeds each prompt+answer id list (IMAGE_SLOT once, expanded to Tv
        visual tokens), right-padded. Returns x (B, T, C) and lengths."""
        rows, lens = [], []
        dev = self.embed_tokens.weight.device
        for i, ids in enumerate(ids_list):
            parts = []
            if IMAGE_SLOT in ids:
                j = ids.index(IMAGE_SLOT)
                pre = torch.tensor(ids[:j], dtype=torch.long, device=dev)
                post = torch.tensor(ids[j + 1 :], dtype=torch.long, device=dev)
                parts = [self.embed_tokens(pre), visual[i], self.embed_tokens(post)]
            else:
                parts = [self.embed_tokens(torch.tensor(ids, dtype=torch.long, device=dev))]
            r = torch.cat(parts)
            rows.append(r)
            lens.append(r.shape[0])
        t = max(lens)
        x = torch.stack([F.pad(r, (0, 0, 0, t - r.shape[0])) for r in rows])
        return x, lens

    def decode(self, x):
        """Decoder over x (B, T, C), causal; logits (B, T, V)."""
        t = x.shape[1]
        mask = torch.full((t, t), float("-inf"), device=x.device).triu(1)
        for layer in self.layers:
            x = layer(x, self.freqs, self.rot, mask)
        x = self.norm(x)
        return F.linear(x, self.embed_tokens.weight) if self.tied else self.lm_head(x)

    def forward(self, pixels, ids_list, task=None, prompt_lens=None, with_visual=False):
        """ids_list: prompt+answer ids with one IMAGE_SLOT each; prompt_lens:
        how many of each are the prompt, which alone the TGH-MoE's text pool
        sees (as at inference: pooling the answer too would leak it into the
        routing). Returns logits (B, T, V), lengths, task logits, chosen
        task, routes, and with_visual the visual tokens (B, Tv, C) too."""
        prompts = None
        if self.has_moe:
            if prompt_lens is None:
                raise ValueError("CTLens.forward: prompt_lens is needed with TGH-MoE (the router pools the prompt only)")
            prompts = [ids[:n] for ids, n in zip(ids_list, prompt_lens)]
        visual, tl, chosen, routes = self.encode(pixels, prompts, task)
        x, lens = self.embed(ids_list, visual)
        if with_visual:
            return self.decode(x), lens, tl, chosen, routes, visual
        return self.decode(x), lens, tl, chosen, routes

    # -- names
    def export_state(self):
        """The parameters under the engine's tensor names (model/weights.go),
        as float32 tensors; the 2D conv kernel keeps its (Cv, Cin, p, p) shape."""
        out = {}
        vp = "model.vision_embed_tokens.img_processor.vision_model."
        ep = "model.vision_embed_tokens."
        for n, p in self.named_parameters():
            if n.startswith("vision."):
                name = vp + n[len("vision.") :]
            elif n.startswith("img_projection."):
                name = ep + n
            elif n.startswith("task_router.") or n.startswith("text_proj."):
                name = ep + n
            elif n.startswith("embed_tokens.") or n.startswith("layers.") or n.startswith("norm."):
                name = "model." + n
            elif n.startswith("lm_head."):
                name = n
            else:
                raise KeyError(n)
            out[name] = p.detach().to(torch.float32).contiguous()
        return out


# ---- the paper's transfer and MoE, as operations on a model -------------------------


def transfer_3d(model2d, cfg3d):
    """A 3D model of cfg3d whose every parameter comes from the 2D model
    (same shapes: the transfer adds no parameters). Returns the new model."""
    m = CTLens(cfg3d)
    missing, unexpected = m.load_state_dict(model2d.state_dict(), strict=False)
    if unexpected:
        raise ValueError("transfer: 2D parameters the 3D model lacks: %s" % unexpected)
    if missing:
        raise ValueError("transfer: 3D parameters without a 2D source: %s" % missing)
    return m


def add_moe(dense, cfg_moe, seed=0, router_std=0.0, text_std=0.02):
    """Stage 2's initialisation, tools/convert's planMoE: every routed
    expert a copy of the layer's FFN, token routers zero (uniform gates),
    and with a shared expert the FFN split in halves (shared fc2 x 1/2,
    experts' fc2 x 1/2 / gate sum), so that the MoE model starts computing
    exactly the dense model. The text projection is random (a zero P and
    zero W_t would both get no gradient); the task router starts at zero."""
    m = CTLens(cfg_moe)
    sd = dense.state_dict()
    missing, unexpected = m.load_state_dict(sd, strict=False)
    if unexpected:
        raise ValueError("add_moe: dense parameters the MoE model lacks: %s" % unexpected)
    mc = cfg_moe["moe"]
    gate_sum = 1.0 if mc.get("renormalize") else mc["top_k"] / mc["experts_per_task"]
    escale = 1.0 / gate_sum
    shared = mc.get("shared_expert", False)
    if shared:
        escale = 0.5 / gate_sum
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for l in mc["layers"]:
            layer = m.vision.encoder.layers[l]
            pre = "vision.encoder.layers.%d.mlp." % l
            for e in layer.mlp.experts:
                e.fc1.weight.copy_(sd[pre + "fc1.weight"])
                e.fc1.bias.copy_(sd[pre + "fc1.bias"])
                e.fc2.weight.copy_(sd[pre + "fc2.weight"] * escale)
                e.fc2.bias.copy_(sd[pre + "fc2.bias"] * escale)
            if shared:
                layer.mlp.fc2.weight.mul_(0.5)
                layer.mlp.fc2.bias.mul_(0.5)
            r = layer.mlp.router
            r.weight.copy_(torch.randn(r.weight.shape, generator=gen) * router_std)
            r.bias.zero_()
        m.task_router.weight.zero_()
        m.task_router.bias.zero_()
        if m.text_proj is not None:
            m.text_proj.weight.copy_(torch.randn(m.text_proj.weight.shape, generator=gen) * text_std)
            m.text_proj.bias.zero_()
    return m


def moe_param_names(model):
    """Parameters that stage 2 learns at the full rate: experts and routers."""
    out = set()
    for n, _ in model.named_parameters():
        if ".mlp.experts." in n or ".mlp.router." in n or n.startswith("task_router.") or n.startswith("text_proj."):
            out.add(n)
    return out


# ---- greedy generation (what the parity file records) ------------------------------


@torch.no_grad()
def greedy(model, pixels, prompt, steps, task=None):
    """Greedy decoding without a cache (re-runs the whole sequence each step:
    fine for a few steps). pixels (D, Cin, H, W). Returns the prompt's logits
    (Tp, V), each step's logits (steps, V), the tokens, the task logits and
    the task used."""
    ids = list(prompt)
    visual, tl, chosen, _ = model.encode(pixels[None], [ids] if model.has_moe else None, task)
    out, step_logits = [], []
    prompt_logits = None
    for _ in range(steps):
        x, _ = model.embed([ids], visual)
        logits = model.decode(x)[0]
        if prompt_logits is None:
            prompt_logits = logits
        last = logits[-1]
        step_logits.append(last)
        nxt = int(torch.argmax(last))  # first max wins, as the sampler's greedy path
        out.append(nxt)
        ids = ids + [nxt]
    return prompt_logits, torch.stack(step_logits), out, tl, chosen
