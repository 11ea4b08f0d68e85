// Package protocol is the message protocol between the library panel
// (app/library, on the page) and the DICOM import Web Worker
// (app/importer). Parsing DICOM runs in that worker so that the page's
// wasm links neither the parser nor its tag dictionary (one 2.65 MB init
// function, 100–200 ms of main-thread compile at every start), and so
// that decoding a 500-file series never holds up the page.
//
// On the wire a message is a plain JavaScript object posted with
// postMessage:
//
//	page → worker: {head: EncodeStart(…), paths: [string…], files: [Blob…]} (one or more)
//	worker → page: {head: EncodeEvent(…)}, and after a series' head its
//	               voxels: {head: EncodePiece(…), blob: Uint8Array}…
//
// A Start carries the import's files as Blobs (File objects of a picker
// or a drop, or the fetched sample study) with their relative paths, in
// one or more messages of the same head until Start.Files have come. The
// worker answers with Events of that Start's id, in this order: Progress
// (any number), one Scanned after the header pass, a Series per series
// found, then Done — or Error, which ends the import early. A Series'
// voxels follow its head in pieces of at most PieceBytes, each the blob
// of a message of its own (little-endian int16, transferred, not
// copied): the page copies each in a callback of its own, so a 250 MB
// series never holds the page's thread (an Assembler puts them back
// together).
package protocol

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"

	"ctlens/volume"
)

// Skipped is a file (or a series) left out of an import, and why, in
// plain words.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Progress is how far an import is.
type Progress struct {
	// Stage is "reading" (fetching files), "headers" (the header pass),
	// "pixels" (decoding), "resampling" (a tilted or uneven series onto a
	// regular grid) or "storing" (writing to the library).
	Stage string `json:"stage"`
	// Done and Total count files for reading, headers and pixels, planes
	// for resampling, and bytes for storing.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Series is the series being decoded or stored, when known.
	Series string `json:"series,omitempty"`
	// File is the file being read, when known.
	File string `json:"file,omitempty"`
}

// Start asks the worker to decode one import's files.
type Start struct {
	// Source names what the user imported ("study.zip", "CT/ and 40
	// more"); a problem that concerns the whole import is filed under it.
	Source string `json:"source"`
	// MaxVoxels bounds one volume (0: the reader's default).
	MaxVoxels int64 `json:"max_voxels,omitempty"`
	// Files is how many files the import has. They may come in several
	// messages with the same head (cloning many Files at once would hold
	// the page); the worker starts when it has them all.
	Files int `json:"files"`
}

// Scanned ends the header pass.
type Scanned struct {
	Files int `json:"files"` // files looked at
	// Ignored are files passed over on purpose (DICOMDIR, hidden files).
	Ignored []string `json:"ignored,omitempty"`
	// Problems are the files that could not be read or tied to a series
	// (not DICOM, truncated, a zip bomb …).
	Problems []Skipped `json:"problems,omitempty"`
}

// Series is one series of the import: decoded (Volume set), or failed
// (Volume nil, and Problems say why).
type Series struct {
	// Volume is the decoded series. On the wire its Voxels are the
	// message's blob.
	Volume *volume.Volume `json:"volume,omitempty"`
	// Problems are the series' files that could not be used, and, for a
	// failed series, the series itself.
	Problems []Skipped `json:"problems,omitempty"`
}

// Event is one message from the worker; exactly one field is set.
type Event struct {
	Progress *Progress `json:"progress,omitempty"`
	Scanned  *Scanned  `json:"scanned,omitempty"`
	Series   *Series   `json:"series,omitempty"`
	// Done ends an import that ran to its end.
	Done bool `json:"done,omitempty"`
	// Error ends an import that stopped as a whole (cancelled, or a
	// failure of the worker itself), in plain words.
	Error string `json:"error,omitempty"`
}

// Final reports whether ev is its import's last message.
func (ev Event) Final() bool { return ev.Done || ev.Error != "" }

// Limits a decoded Event must respect: a damaged or hostile message
// cannot make the page allocate without bound. 2^31 voxels is four times
// the reader's largest volume.
const maxVoxels = 1 << 31

type startEnvelope struct {
	ID    int   `json:"id"`
	Start Start `json:"start"`
}

type eventEnvelope struct {
	ID    int   `json:"id"`
	Event Event `json:"event"`
	// Voxels is, in a series' head, how many voxels follow in pieces.
	Voxels int64 `json:"voxels,omitempty"`
	// Piece is set on a piece of voxels: its offset, in voxels.
	Piece *int64 `json:"piece,omitempty"`
}

// PieceBytes bounds one piece of a series' voxels: copying it into Go
// memory takes a few milliseconds.
const PieceBytes = 8 << 20

// EncodeStart writes request id's Start as the message head.
func EncodeStart(id int, s Start) (string, error) {
	b, err := json.Marshal(startEnvelope{id, s})
	return string(b), err
}

// DecodeStart reads a head EncodeStart wrote.
func DecodeStart(head string) (id int, s Start, err error) {
	var e startEnvelope
	if err := json.Unmarshal([]byte(head), &e); err != nil {
		return 0, Start{}, fmt.Errorf("import protocol: bad start message: %w", err)
	}
	if e.ID <= 0 {
		return 0, Start{}, errors.New("import protocol: a start message without an id")
	}
	if e.Start.Files < 0 {
		return e.ID, Start{}, fmt.Errorf("import protocol: a start message for %d files", e.Start.Files)
	}
	return e.ID, e.Start, nil
}

// EncodeEvent writes an event of request id as the message head, and
// returns the voxels that must follow it in pieces (nil unless ev
// carries a decoded series; see EncodePiece). ev is not changed.
func EncodeEvent(id int, ev Event) (head string, voxels []int16, err error) {
	if s := ev.Series; s != nil && s.Volume != nil {
		v := *s.Volume
		voxels, v.Voxels = v.Voxels, nil
		ev.Series = &Series{Volume: &v, Problems: s.Problems}
	}
	b, err := json.Marshal(eventEnvelope{ID: id, Event: ev, Voxels: int64(len(voxels))})
	if err != nil {
		return "", nil, fmt.Errorf("import protocol: encoding an event: %w", err)
	}
	return string(b), voxels, nil
}

// EncodePiece writes the head of a piece of request id's series voxels
// that starts at voxel offset; the piece's bytes are the message's blob.
func EncodePiece(id int, offset int64) string {
	b, _ := json.Marshal(eventEnvelope{ID: id, Piece: &offset})
	return string(b)
}

// Assembler puts a series' head and the pieces of its voxels back
// together, and passes other events through. Add is called with each
// message in the order they came; it is not safe for concurrent use.
type Assembler struct {
	head   string  // the series waiting for its voxels
	voxels []int16 // its voxels, filled by pieces
	filled int64
}

// Add takes one message: its head and the length of its blob, and fill,
// which copies the blob into dst (len(dst) = n). It returns the event
// once it is complete (ok), or an error for a message that does not fit.
func (a *Assembler) Add(head string, n int, fill func(dst []byte)) (id int, ev Event, ok bool, err error) {
	var e eventEnvelope
	if err := json.Unmarshal([]byte(head), &e); err != nil {
		return 0, Event{}, false, fmt.Errorf("import protocol: bad event: %w", err)
	}
	if e.Piece == nil {
		if a.head != "" {
			return e.ID, Event{}, false, fmt.Errorf("import protocol: an event came while a series lacked %d of its voxels", int64(len(a.voxels))-a.filled)
		}
		if n > 0 {
			return e.ID, Event{}, false, fmt.Errorf("import protocol: %d bytes came with an event head", n)
		}
		if e.Voxels <= 0 {
			id, ev, err := DecodeEvent(head, nil)
			return id, ev, err == nil, err
		}
		if e.Voxels > maxVoxels {
			return e.ID, Event{}, false, fmt.Errorf("import protocol: a series of %d voxels", e.Voxels)
		}
		a.head, a.voxels, a.filled = head, make([]int16, e.Voxels), 0
		return e.ID, Event{}, false, nil
	}
	off := *e.Piece
	if a.head == "" || off != a.filled || n%2 != 0 || n == 0 || off+int64(n/2) > int64(len(a.voxels)) {
		return e.ID, Event{}, false, fmt.Errorf("import protocol: a piece of %d bytes at voxel %d does not fit (%d of %d voxels came)", n, off, a.filled, len(a.voxels))
	}
	dst := a.voxels[off : off+int64(n/2)]
	if littleEndian {
		fill(Bytes(dst))
	} else {
		b := make([]byte, n)
		fill(b)
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	a.filled += int64(n / 2)
	if a.filled < int64(len(a.voxels)) {
		return e.ID, Event{}, false, nil
	}
	head, voxels := a.head, a.voxels
	*a = Assembler{}
	id, ev, err = DecodeEvent(head, voxels)
	return id, ev, err == nil, err
}

// EventID reads only the request id of an event's head, so a receiver
// can route a message before it decodes it.
func EventID(head string) (int, error) {
	var e struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal([]byte(head), &e); err != nil {
		return 0, fmt.Errorf("import protocol: bad event: %w", err)
	}
	return e.ID, nil
}

// DecodeEvent reads a head EncodeEvent wrote, with the voxels of its blob
// (see Bytes for how a receiver fills them). A series' voxel count must
// match its dimensions.
func DecodeEvent(head string, voxels []int16) (id int, ev Event, err error) {
	var e eventEnvelope
	if err := json.Unmarshal([]byte(head), &e); err != nil {
		return 0, Event{}, fmt.Errorf("import protocol: bad event: %w", err)
	}
	ev = e.Event
	s := ev.Series
	if s == nil || s.Volume == nil {
		if len(voxels) > 0 {
			return e.ID, Event{}, fmt.Errorf("import protocol: %d voxels came with an event that carries no volume", len(voxels))
		}
		return e.ID, ev, nil
	}
	v := s.Volume
	n := int64(v.Phases)
	for _, d := range v.Dims {
		if d <= 0 {
			return e.ID, Event{}, fmt.Errorf("import protocol: a volume of %v voxels", v.Dims)
		}
		n *= int64(d)
	}
	if v.Phases < 1 || n > maxVoxels {
		return e.ID, Event{}, fmt.Errorf("import protocol: a volume of %v voxels × %d phases", v.Dims, v.Phases)
	}
	if int64(len(voxels)) != n {
		return e.ID, Event{}, fmt.Errorf("import protocol: a %v × %d volume came with %d voxels, want %d", v.Dims, v.Phases, len(voxels), n)
	}
	v.Voxels = voxels
	return e.ID, ev, nil
}

// Bytes is the wire form of voxels, little-endian int16: a view of the
// same memory where the machine is little-endian (wasm always is), so
// that a 250 MB volume is not copied to be posted. On a big-endian
// machine it is a converted copy. (Receivers fill voxels through an
// Assembler, which handles both.)
func Bytes(voxels []int16) []byte {
	if len(voxels) == 0 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&voxels[0])), 2*len(voxels))
	}
	b := make([]byte, 2*len(voxels))
	for i, x := range voxels {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// BytesText writes a byte count for people ("1.5 GiB", "320 KiB"), as the
// worker's messages and the page's panel both show sizes.
func BytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for f /= unit; f >= unit && i < len(units)-1; f /= unit {
		i++
	}
	if f < 10 {
		return fmt.Sprintf("%.1f %s", f, units[i])
	}
	return fmt.Sprintf("%.0f %s", f, units[i])
}
