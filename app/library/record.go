package library

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"ctlens/volume"
)

// recordVersion is the meta.json format; a record of another version is
// reported as unreadable rather than guessed at.
const recordVersion = 1

// maxStoredVoxels bounds the voxels a record may claim, so a damaged
// meta.json cannot make Load allocate without limit: 2^31 int16 values
// (4 GiB), four times volume.DefaultMaxVoxels.
const maxStoredVoxels = 1 << 31

// record is a stored series' meta.json: everything about the volume but
// its voxels, which are the chunk files it lists.
type record struct {
	Version  int       `json:"version"`
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Source   string    `json:"source,omitempty"`
	Sample   bool      `json:"sample,omitempty"`
	Imported time.Time `json:"imported"`

	Dims             [3]int          `json:"dims"`
	Phases           int             `json:"phases"`
	Spacing          [3]float64      `json:"spacing"`
	Origin           [3]float64      `json:"origin"`
	Direction        [3][3]float64   `json:"direction"`
	Windows          []volume.Window `json:"windows,omitempty"`
	Invert           bool            `json:"invert,omitempty"`
	Meta             volume.Metadata `json:"meta"`
	TransferSyntaxes []string        `json:"transfer_syntaxes,omitempty"`
	Files            int             `json:"files"`
	// Instances are absent from records written before they were kept;
	// such a series' reports go out without an evidence list.
	Instances   []volume.InstanceRef `json:"instances,omitempty"`
	PhaseLabels []string             `json:"phase_labels,omitempty"`
	Resampled   bool                 `json:"resampled,omitempty"`
	Warnings    []string             `json:"warnings,omitempty"`
	Skipped     []Skipped            `json:"skipped,omitempty"`

	VoxelBytes int64      `json:"voxel_bytes"`
	Chunks     []chunkRec `json:"chunks"`
	ThumbBytes int64      `json:"thumb_bytes"`
}

// chunkRec is one voxel chunk file: its size and CRC-32 (IEEE), so that
// storage that lost or damaged a chunk is named rather than shown as
// wrong voxels.
type chunkRec struct {
	Bytes int64  `json:"bytes"`
	CRC   uint32 `json:"crc"`
}

// parseRecord decodes and checks a meta.json; every inconsistency that
// would make Load misbehave is an error here.
func parseRecord(data []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("meta.json is not readable: %v", err)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("meta.json: %v", err)
	}
	return &r, nil
}

func (r *record) check() error {
	if r.Version != recordVersion {
		return fmt.Errorf("format version %d, this app reads version %d", r.Version, recordVersion)
	}
	if !validID(r.ID) {
		return fmt.Errorf("bad series id %q", r.ID)
	}
	n := int64(1)
	for a, d := range r.Dims {
		if d < 1 || d > 1<<16 {
			return fmt.Errorf("dimension %d is %d", a, d)
		}
		n *= int64(d)
	}
	if r.Phases < 1 || r.Phases > 1<<12 {
		return fmt.Errorf("%d phases", r.Phases)
	}
	n *= int64(r.Phases)
	if n > maxStoredVoxels {
		return fmt.Errorf("%d voxels exceed the limit of %d", n, int64(maxStoredVoxels))
	}
	if r.VoxelBytes != 2*n {
		return fmt.Errorf("%d voxel bytes for %d voxels", r.VoxelBytes, n)
	}
	var sum int64
	for i, c := range r.Chunks {
		if c.Bytes <= 0 || c.Bytes%2 != 0 || c.Bytes > 1<<30 {
			return fmt.Errorf("chunk %d has %d bytes", i, c.Bytes)
		}
		sum += c.Bytes
	}
	if sum != r.VoxelBytes {
		return fmt.Errorf("chunks hold %d bytes, the voxels need %d", sum, r.VoxelBytes)
	}
	for a := range 3 {
		if !(r.Spacing[a] > 0) || math.IsInf(r.Spacing[a], 0) {
			return fmt.Errorf("spacing %v", r.Spacing)
		}
	}
	if r.ThumbBytes < 0 {
		return fmt.Errorf("thumbnail of %d bytes", r.ThumbBytes)
	}
	return nil
}

// volume rebuilds the Volume that was stored, without its voxels.
func (r *record) volume() *volume.Volume {
	return &volume.Volume{
		Dims:             r.Dims,
		Phases:           r.Phases,
		Spacing:          r.Spacing,
		Origin:           r.Origin,
		Direction:        r.Direction,
		Windows:          r.Windows,
		Invert:           r.Invert,
		Meta:             r.Meta,
		TransferSyntaxes: r.TransferSyntaxes,
		Files:            r.Files,
		Instances:        r.Instances,
		PhaseLabels:      r.PhaseLabels,
		Resampled:        r.Resampled,
		Warnings:         r.Warnings,
	}
}

// newRecord describes v for storage under id.
func newRecord(id string, v *volume.Volume, opt PutOptions, now time.Time) *record {
	name := opt.Name
	if name == "" {
		name = v.Meta.DisplayName()
	}
	return &record{
		Version:          recordVersion,
		ID:               id,
		Name:             name,
		Source:           opt.Source,
		Sample:           opt.Sample,
		Imported:         now.UTC(),
		Dims:             v.Dims,
		Phases:           max(v.Phases, 1),
		Spacing:          v.Spacing,
		Origin:           v.Origin,
		Direction:        v.Direction,
		Windows:          v.Windows,
		Invert:           v.Invert,
		Meta:             v.Meta,
		TransferSyntaxes: v.TransferSyntaxes,
		Files:            v.Files,
		Instances:        v.Instances,
		PhaseLabels:      v.PhaseLabels,
		Resampled:        v.Resampled,
		Warnings:         v.Warnings,
		Skipped:          opt.Skipped,
	}
}

// validID accepts the IDs the store makes: "s" and 16 lower-case hex
// digits. Anything else in the series folder is not ours.
func validID(id string) bool {
	if len(id) != 17 || id[0] != 's' {
		return false
	}
	for _, c := range id[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
