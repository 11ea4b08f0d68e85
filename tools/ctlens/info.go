package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"ctlens/volume"
	"ctlens/volume/dicomread"
)

func init() {
	commands["info"] = command{"describe the CT series under a folder, zip or file (--json for JSON)", runInfo}
}

// infoReport is what `ctlens info` prints. It carries no patient identity:
// only what describes the images.
type infoReport struct {
	Path    string       `json:"path"`
	Files   int          `json:"files"`
	Series  []seriesInfo `json:"series"`
	Errors  []fileError  `json:"errors"`
	Skipped []string     `json:"skipped,omitempty"`
}

type seriesInfo struct {
	Name              string          `json:"name"`
	SeriesInstanceUID string          `json:"seriesInstanceUID"`
	Modality          string          `json:"modality"`
	Dims              [3]int          `json:"dims"`
	Phases            int             `json:"phases"`
	Spacing           [3]float64      `json:"spacingMM"`
	Origin            [3]float64      `json:"originLPS"`
	Orientation       [6]float64      `json:"orientation"` // row then column direction cosines
	TransferSyntaxes  []string        `json:"transferSyntaxes"`
	Files             int             `json:"files"`
	HU                *huStats        `json:"hu,omitempty"`
	Windows           []volume.Window `json:"windows,omitempty"`
	PhaseLabels       []string        `json:"phaseLabels,omitempty"`
	Resampled         bool            `json:"resampled"`
	Invert            bool            `json:"invertDisplay,omitempty"`
	Warnings          []string        `json:"warnings"`
}

type huStats struct {
	Min  int16   `json:"min"`
	Max  int16   `json:"max"`
	Mean float64 `json:"mean"`
}

type fileError struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"` // format, unsupported, other
	Error string `json:"error"`
}

func runInfo(args []string) error {
	asJSON := false
	var paths []string
	for _, a := range args {
		switch a {
		case "--json", "-json":
			asJSON = true
		case "-h", "--help":
			fmt.Fprintln(os.Stderr, "usage: ctlens info PATH [--json]")
			return nil
		default:
			if strings.HasPrefix(a, "-") {
				return fmt.Errorf("unknown flag %s\nusage: ctlens info PATH [--json]", a)
			}
			paths = append(paths, a)
		}
	}
	if len(paths) != 1 {
		return errors.New("usage: ctlens info PATH [--json] (a folder, a zip archive or one DICOM file)")
	}
	fsys, closer, err := dicomread.Open(paths[0])
	if err != nil {
		return err
	}
	defer closer.Close()
	res, err := dicomread.Import(context.Background(), fsys, nil)
	if err != nil {
		return err
	}
	rep := infoReport{Path: paths[0], Files: res.Files, Skipped: res.Skipped, Errors: []fileError{}, Series: []seriesInfo{}}
	for i, s := range res.Series {
		si := seriesInfo{
			Name:              s.Name(),
			SeriesInstanceUID: s.SeriesInstanceUID,
			Modality:          s.Modality,
			Dims:              s.Grid.Dims,
			Phases:            len(s.Slices),
			Spacing:           s.Grid.Spacing,
			Origin:            s.Grid.Origin,
			TransferSyntaxes:  s.TransferSyntaxes,
			Files:             len(s.Files()),
			Windows:           s.Windows,
			Resampled:         s.Resample,
			Invert:            s.Invert,
			Warnings:          s.Warnings,
		}
		copy(si.Orientation[:3], s.Grid.Direction[0][:])
		copy(si.Orientation[3:], s.Grid.Direction[1][:])
		if v := res.Volumes[i]; v != nil {
			st := v.Stats()
			si.HU = &huStats{Min: st.Min, Max: st.Max, Mean: st.Mean}
			si.Warnings = v.Warnings
			si.PhaseLabels = v.PhaseLabels
		}
		if si.Warnings == nil {
			si.Warnings = []string{}
		}
		rep.Series = append(rep.Series, si)
	}
	for _, e := range res.Errors {
		kind := "other"
		var fe *dicomread.FormatError
		var ue *dicomread.UnsupportedError
		switch {
		case errors.As(e, &fe):
			kind = "format"
		case errors.As(e, &ue):
			kind = "unsupported"
		}
		rep.Errors = append(rep.Errors, fileError{Path: e.Path, Kind: kind, Error: e.Error()})
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printInfo(os.Stdout, rep, res.Errors)
	return nil
}

func printInfo(w io.Writer, rep infoReport, errs []*dicomread.FileError) {
	fmt.Fprintf(w, "%s: %d file(s), %d series, %d file error(s)\n", rep.Path, rep.Files, len(rep.Series), len(rep.Errors))
	for _, s := range rep.Series {
		fmt.Fprintf(w, "\n%s\n", s.Name)
		fmt.Fprintf(w, "  modality      %s\n", s.Modality)
		fmt.Fprintf(w, "  dims          %d × %d × %d", s.Dims[0], s.Dims[1], s.Dims[2])
		if s.Phases > 1 {
			fmt.Fprintf(w, " × %d phases", s.Phases)
		}
		fmt.Fprintf(w, "  (%d file(s))\n", s.Files)
		fmt.Fprintf(w, "  spacing       %.4g × %.4g × %.4g mm\n", s.Spacing[0], s.Spacing[1], s.Spacing[2])
		fmt.Fprintf(w, "  origin        (%.2f, %.2f, %.2f) mm LPS\n", s.Origin[0], s.Origin[1], s.Origin[2])
		fmt.Fprintf(w, "  orientation   row (%.4f, %.4f, %.4f) column (%.4f, %.4f, %.4f)\n",
			s.Orientation[0], s.Orientation[1], s.Orientation[2], s.Orientation[3], s.Orientation[4], s.Orientation[5])
		fmt.Fprintf(w, "  syntaxes      %s\n", strings.Join(s.TransferSyntaxes, "; "))
		if s.HU != nil {
			fmt.Fprintf(w, "  HU            min %d, max %d, mean %.1f\n", s.HU.Min, s.HU.Max, s.HU.Mean)
		} else {
			fmt.Fprintf(w, "  HU            (not loaded: see errors)\n")
		}
		for i, l := range s.PhaseLabels {
			if len(s.PhaseLabels) > 1 {
				fmt.Fprintf(w, "  phase %-7d %s\n", i, l)
			}
		}
		for _, wn := range s.Warnings {
			fmt.Fprintf(w, "  warning       %s\n", wn)
		}
	}
	if len(errs) == 0 {
		return
	}
	// Many files often fail the same way (a whole series in JPEG 2000):
	// group them by message, showing the first file of each group.
	type group struct {
		first string
		n     int
	}
	groups := map[string]*group{}
	var order []string
	for _, e := range errs {
		msg := e.Err.Error()
		if g, ok := groups[msg]; ok {
			g.n++
			continue
		}
		groups[msg] = &group{first: e.Path, n: 1}
		order = append(order, msg)
	}
	sort.SliceStable(order, func(i, j int) bool { return groups[order[i]].n > groups[order[j]].n })
	fmt.Fprintf(w, "\nerrors\n")
	for _, msg := range order {
		g := groups[msg]
		if g.n == 1 {
			fmt.Fprintf(w, "  %s: %s\n", g.first, msg)
		} else {
			fmt.Fprintf(w, "  %d files (first %s): %s\n", g.n, g.first, msg)
		}
	}
}
