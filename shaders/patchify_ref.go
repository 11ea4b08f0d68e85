package shaders

// PatchifyRef is the reference of the patchify kernel: x (D, Cin, H, W) to
// y (D, Prefix + Hp·Wp, Cin·p·p) with element (c·p + ky)·p + kx of row
// Prefix + py·Wp + px holding x[d, c, py·p + ky, px·p + kx], and zero
// prefix rows.
func PatchifyRef(y, x []float32, p PatchifyParams) {
	d, cin, h, w := int(p.D), int(p.Cin), int(p.H), int(p.W)
	ps, pre, hp, wp := int(p.Patch), int(p.Prefix), int(p.Hp), int(p.Wp)
	k := cin * ps * ps
	rows := pre + hp*wp
	for s := 0; s < d; s++ {
		for r := 0; r < pre; r++ {
			clear(y[(s*rows+r)*k : (s*rows+r+1)*k])
		}
		for py := 0; py < hp; py++ {
			for px := 0; px < wp; px++ {
				out := y[(s*rows+pre+py*wp+px)*k:]
				for c := 0; c < cin; c++ {
					for ky := 0; ky < ps; ky++ {
						for kx := 0; kx < ps; kx++ {
							out[(c*ps+ky)*ps+kx] = x[((s*cin+c)*h+py*ps+ky)*w+px*ps+kx]
						}
					}
				}
			}
		}
	}
}
