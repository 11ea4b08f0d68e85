// kvappend: copies the k and v parts of T rows of a fused qkv buffer into
// the KV cache at rows pos..pos+T−1:
//   kc[(pos + t)·dst_stride + k_dst_off + c] = src[t·src_stride + k_src_off + c]
//   vc[(pos + t)·dst_stride + v_dst_off + c] = src[t·src_stride + v_src_off + c]
// for c < width (= Hkv·Dh). Scalar f32 so no alignment is asked of callers;
// it moves T·width·8 bytes per layer, nothing next to the attention itself.
//
// bindings: 0 Params { t, width, src_stride, k_src_off, v_src_off,
//                      dst_stride, k_dst_off, v_dst_off, pos }
//           1 src: (T, src_stride) f32, read
//           2 kc: K cache (max_T, dst_stride) f32, read_write
//           3 vc: V cache (max_T, dst_stride) f32, read_write
// grid: Grid1D(ceil(T·width / WG)) workgroups of WG threads, one element of
// K and one of V per thread.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> kc: array<f32>;
@group(0) @binding(3) var<storage, read_write> vc: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let e = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (e >= P.t * P.width) {
        return;
    }
    let t = e / P.width;
    let c = e % P.width;
    let s = t * P.src_stride + c;
    let d = (P.pos + t) * P.dst_stride + c;
    kc[d + P.k_dst_off] = src[s + P.k_src_off];
    vc[d + P.v_dst_off] = src[s + P.v_src_off];
}
