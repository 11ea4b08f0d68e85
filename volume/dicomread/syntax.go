package dicomread

import (
	"encoding/binary"
	"fmt"
)

// syntax describes one transfer syntax (PS3.5 10 and Annex A): how the data
// set is encoded and how the pixel data is.
type syntax struct {
	uid      string
	name     string
	bigEnd   bool // Explicit VR Big Endian (PS3.5 A.3, retired but still met)
	implicit bool // Implicit VR Little Endian (PS3.5 A.1)
	deflated bool // the data set after the meta group is raw deflate (PS3.5 A.5)
	encaps   bool // pixel data is encapsulated in fragments (PS3.5 A.4)
	// codec names the frame decoder in the table of codecs.go, "" when the
	// pixel data is native. An encapsulated syntax whose codec has no entry
	// there is reported with UnsupportedError.
	codec string
}

func (s *syntax) byteOrder() binary.ByteOrder {
	if s.bigEnd {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// String names the syntax with its UID, as error messages do.
func (s *syntax) String() string { return fmt.Sprintf("%s (%s)", s.name, s.uid) }

// syntaxes is every transfer syntax that ctlens knows by name. Knowing a
// syntax is not decoding it: the codec column says which decoder its frames
// need; codecs.go says which decoders exist.
var syntaxes = []syntax{
	{uid: "1.2.840.10008.1.2", name: "Implicit VR Little Endian", implicit: true},
	{uid: "1.2.840.10008.1.2.1", name: "Explicit VR Little Endian"},
	{uid: "1.2.840.10008.1.2.1.99", name: "Deflated Explicit VR Little Endian", deflated: true},
	{uid: "1.2.840.10008.1.2.2", name: "Explicit VR Big Endian", bigEnd: true},
	{uid: "1.2.840.10008.1.2.1.98", name: "Encapsulated Uncompressed Explicit VR Little Endian", encaps: true, codec: "raw"},
	{uid: "1.2.840.10008.1.2.5", name: "RLE Lossless", encaps: true, codec: "rle"},
	{uid: "1.2.840.10008.1.2.4.50", name: "JPEG Baseline (Process 1)", encaps: true, codec: "jpeg"},
	{uid: "1.2.840.10008.1.2.4.51", name: "JPEG Extended (Process 2 & 4)", encaps: true, codec: "jpeg"},
	{uid: "1.2.840.10008.1.2.4.53", name: "JPEG Spectral Selection (Process 6 & 8)", encaps: true, codec: "jpeg"},
	{uid: "1.2.840.10008.1.2.4.55", name: "JPEG Full Progression (Process 10 & 12)", encaps: true, codec: "jpeg"},
	{uid: "1.2.840.10008.1.2.4.57", name: "JPEG Lossless (Process 14)", encaps: true, codec: "jpeg"},
	{uid: "1.2.840.10008.1.2.4.70", name: "JPEG Lossless SV1 (Process 14, Selection Value 1)", encaps: true, codec: "jpeg"},
	{uid: "1.2.840.10008.1.2.4.80", name: "JPEG-LS Lossless", encaps: true, codec: "jpegls"},
	{uid: "1.2.840.10008.1.2.4.81", name: "JPEG-LS Near-Lossless", encaps: true, codec: "jpegls"},
	{uid: "1.2.840.10008.1.2.4.90", name: "JPEG 2000 Lossless", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.91", name: "JPEG 2000", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.92", name: "JPEG 2000 Part 2 Multi-component Lossless", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.93", name: "JPEG 2000 Part 2 Multi-component", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.201", name: "High-Throughput JPEG 2000 Lossless", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.202", name: "High-Throughput JPEG 2000 with RPCL Lossless", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.203", name: "High-Throughput JPEG 2000", encaps: true, codec: "j2k"},
	{uid: "1.2.840.10008.1.2.4.100", name: "MPEG2 Main Profile", encaps: true, codec: "video"},
	{uid: "1.2.840.10008.1.2.4.102", name: "MPEG-4 AVC/H.264", encaps: true, codec: "video"},
	{uid: "1.2.840.10008.1.2.4.110", name: "JPEG XL Lossless", encaps: true, codec: "jpegxl"},
	{uid: "1.2.840.10008.1.2.4.112", name: "JPEG XL", encaps: true, codec: "jpegxl"},
}

// lookupSyntax returns the syntax for uid. An unknown UID is still returned
// as an encapsulated syntax without a codec: PS3.5 A.4 requires every
// syntax not defined as native to be encapsulated, so its data set can be
// read (explicit VR little endian) and its pixels reported as unsupported.
func lookupSyntax(uid string) *syntax {
	for i := range syntaxes {
		if syntaxes[i].uid == uid {
			return &syntaxes[i]
		}
	}
	return &syntax{uid: uid, name: "unknown transfer syntax", encaps: true, codec: "unknown"}
}
