package shaders

import (
	"embed"
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

//go:embed *.wgsl
var sources embed.FS

// Access is how a kernel binds a buffer.
type Access uint8

const (
	// Uniform holds the kernel's Params.
	Uniform Access = iota
	// Read is a read-only storage buffer.
	Read
	// ReadWrite is a read-write storage buffer.
	ReadWrite
)

// Binding names one buffer a kernel binds; binding i of group 0 is the i-th.
type Binding struct {
	Name   string
	Access Access
}

// Kernel is one variant of a kernel, ready to compile: WGSL with its Params
// struct and constants injected.
type Kernel struct {
	// Name is the variant's full name, e.g. "rmsnorm/residual/wg256": the
	// pipeline-cache key's readable part and the name in profiles.
	Name     string
	File     string // the .wgsl file it was rendered from
	Source   string
	Entry    string
	Bindings []Binding
	// NeedsSubgroups marks browser-only variants using WGSL subgroup
	// built-ins (`enable subgroups;`).
	NeedsSubgroups bool
	// NeedsPackedDot4 marks browser-only variants using dot4I8Packed and
	// pack4xI8 (the packed_4x8_integer_dot_product language extension,
	// which needs no `enable` but which naga rejects).
	NeedsPackedDot4 bool
}

// Binding returns the index of the named binding, or -1.
func (k Kernel) Binding(name string) int {
	for i, b := range k.Bindings {
		if b.Name == name {
			return i
		}
	}
	return -1
}

// Const is a WGSL constant injected ahead of a kernel's source.
type Const struct {
	Name  string
	Value any // uint32/int → u32, int32 → i32, float32 → f32, bool → bool
}

// render builds a kernel source: an optional `enable` line, the generated
// Params struct, the constants, then the parts concatenated in order
// (snippets first, the kernel file last). A part naming a .wgsl file is read
// from the embedded files; any other part is WGSL text (generated bindings).
func render(params any, consts []Const, enable string, parts ...string) string {
	var b strings.Builder
	if enable != "" {
		fmt.Fprintf(&b, "enable %s;\n", enable)
	}
	if params != nil {
		b.WriteString(ParamsWGSL(params))
	}
	for _, c := range consts {
		b.WriteString(constWGSL(c))
	}
	for _, f := range parts {
		if !strings.HasSuffix(f, ".wgsl") || strings.Contains(f, "\n") {
			b.WriteString(f)
			continue
		}
		src, err := sources.ReadFile(f)
		if err != nil {
			panic(fmt.Sprintf("shaders: missing embedded %s", f)) // a build-time mistake, caught by tests
		}
		b.WriteString("\n// ---- " + f + " ----\n")
		b.Write(src)
	}
	return b.String()
}

func constWGSL(c Const) string {
	switch v := c.Value.(type) {
	case uint32:
		return fmt.Sprintf("const %s: u32 = %du;\n", c.Name, v)
	case int:
		return fmt.Sprintf("const %s: u32 = %du;\n", c.Name, v)
	case int32:
		return fmt.Sprintf("const %s: i32 = %di;\n", c.Name, v)
	case float32:
		return fmt.Sprintf("const %s: f32 = %s;\n", c.Name, wgslFloat(v))
	case bool:
		return fmt.Sprintf("const %s: bool = %v;\n", c.Name, v)
	}
	panic(fmt.Sprintf("shaders: constant %s has unsupported type %T", c.Name, c.Value))
}

func wgslFloat(v float32) string {
	s := fmt.Sprintf("%g", v)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// ParamsWGSL renders a Go Params struct (fields of uint32, int32 and float32
// only) as `struct Params` in WGSL, padded to 16 bytes as uniform buffers
// require. Field names come from the `wgsl` tag, else the snake-cased Go name.
func ParamsWGSL(params any) string {
	t := reflect.TypeOf(params)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var b strings.Builder
	b.WriteString("struct Params {\n")
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		b.WriteString("  " + paramName(f) + ": " + wgslType(f.Type) + ",\n")
	}
	for pad := t.NumField(); pad%4 != 0; pad++ {
		fmt.Fprintf(&b, "  _pad%d: u32,\n", pad)
	}
	b.WriteString("}\n")
	return b.String()
}

func paramName(f reflect.StructField) string {
	if tag := f.Tag.Get("wgsl"); tag != "" {
		return tag
	}
	var out []rune
	for i, r := range f.Name {
		if unicode.IsUpper(r) {
			if i > 0 {
				out = append(out, '_')
			}
			r = unicode.ToLower(r)
		}
		out = append(out, r)
	}
	return string(out)
}

func wgslType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint32:
		return "u32"
	case reflect.Int32:
		return "i32"
	case reflect.Float32:
		return "f32"
	}
	panic(fmt.Sprintf("shaders: Params field of type %s: only uint32, int32 and float32 are allowed", t))
}

// ParamsBytes encodes a Params struct as its uniform buffer contents
// (little-endian 4-byte fields, padded to 16 bytes).
func ParamsBytes(params any) []byte {
	v := reflect.Indirect(reflect.ValueOf(params))
	n := (v.NumField() + 3) &^ 3
	out := make([]byte, 4*n)
	for i := 0; i < v.NumField(); i++ {
		var u uint32
		switch f := v.Field(i); f.Kind() {
		case reflect.Uint32:
			u = uint32(f.Uint())
		case reflect.Int32:
			u = uint32(int32(f.Int()))
		case reflect.Float32:
			u = float32bits(float32(f.Float()))
		default:
			panic(fmt.Sprintf("shaders: Params field %d of type %s", i, f.Type()))
		}
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return out
}

// Grid1D spreads n workgroups over x and y so that neither exceeds the
// WebGPU default of 65535 per dimension; kernels recover the linear id as
// wid.x + wid.y * nwg.x and return when it is ≥ n.
func Grid1D(n uint32) [3]uint32 {
	if n <= 65535 {
		return [3]uint32{max(n, 1), 1, 1}
	}
	y := (n + 65534) / 65535
	return [3]uint32{(n + y - 1) / y, y, 1}
}

func ceilDiv(a, b uint32) uint32 { return (a + b - 1) / b }
