package state

import (
	"testing"

	"ctlens/volume"
)

func TestRoutingFollowsTheSeries(t *testing.T) {
	a := &Series{ID: "a", Volume: &volume.Volume{}}
	SetCurrent(a)
	SetRouting(&Routing{SeriesID: "a"})
	if CurrentRouting() == nil {
		t.Fatal("routing for the series on screen is not returned")
	}
	SetCurrent(&Series{ID: "b"})
	if CurrentRouting() != nil {
		t.Fatal("routing of series a is shown over series b")
	}
	SetCurrent(a)
	if CurrentRouting() != nil {
		t.Fatal("routing dropped when b opened came back with a")
	}
	SetCurrent(nil)
	if Current() != nil {
		t.Fatal("Current after SetCurrent(nil)")
	}
}
