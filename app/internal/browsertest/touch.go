//go:build !js

package browsertest

import (
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// Touch input for browser tests. The gestures below send CDP's
// Input.dispatchTouchEvent, which the page sees as the browser's own touch
// and pointer events (pointerType "touch", implicit pointer capture), not
// the look-alikes a script can construct. Chromium 156 delivers them even
// without touch emulation, but only with emulation on (EnableTouch) does
// the page see a touch device (navigator.maxTouchPoints, "(any-pointer:
// coarse)"), as it would on a tablet.

// Point is a position in the page's CSS pixels (the viewport's
// coordinates, as getBoundingClientRect gives them).
type Point struct{ X, Y float64 }

// Finger is one touch point: ID tells fingers apart across the events of
// a gesture.
type Finger struct {
	ID int
	Point
}

// EnableTouch turns on touch emulation for the tab with up to maxPoints
// fingers (navigator.maxTouchPoints, "(pointer: coarse)" and touch input
// dispatch). Call it before the first gesture; a t.Fatal on failure.
func (s *Session) EnableTouch(maxPoints int) {
	s.t.Helper()
	if _, err := chromedp.Call(s.Ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{
		Enabled: true, MaxTouchPoints: int64(maxPoints),
	}); err != nil {
		s.t.Fatalf("enabling touch emulation: %v", err)
	}
}

// Touch sends one touch event. typ is TouchStart (fingers are put
// down: those in fingers that are not down yet), TouchMove
// (fingers move to the given points) or TouchEnd or TouchCancel
// (every finger lifts; fingers must be empty). fingers lists every finger
// that is down after the event, as the protocol wants.
func (s *Session) Touch(typ input.DispatchTouchEventType, fingers ...Finger) {
	s.t.Helper()
	pts := make([]*input.TouchPoint, 0, len(fingers))
	for _, f := range fingers {
		// Radius and force as a fingertip reports them, rather than
		// the protocol's 1 px defaults.
		r, force, id := 6.0, 0.5, float64(f.ID)
		pts = append(pts, &input.TouchPoint{X: f.X, Y: f.Y, RadiusX: &r, RadiusY: &r, Force: &force, ID: &id})
	}
	if _, err := chromedp.Call(s.Ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: pts}); err != nil {
		s.t.Fatalf("touch %s at %v: %v%s", typ, fingers, err, s.consoleTail())
	}
}

// Drag puts one finger down at from, moves it to to in steps equal moves
// (a pause between them lets the page handle each) and lifts it.
func (s *Session) Drag(from, to Point, steps int) {
	s.t.Helper()
	steps = max(steps, 1)
	s.Touch(TouchStart, Finger{1, from})
	for i := 1; i <= steps; i++ {
		s.Touch(TouchMove, Finger{1, lerp(from, to, float64(i)/float64(steps))})
		time.Sleep(gestureStep)
	}
	s.Touch(TouchEnd)
}

// Pinch puts two fingers down on a horizontal line, d0 apart around c0,
// moves them in steps to d1 apart around c1 (both fingers in each
// event, as a real pinch reports them) and lifts them. d1 > d0 spreads
// (zoom in); c1 != c0 pans while pinching.
func (s *Session) Pinch(c0 Point, d0 float64, c1 Point, d1 float64, steps int) {
	s.t.Helper()
	steps = max(steps, 1)
	at := func(f float64) (a, b Finger) {
		c, d := lerp(c0, c1, f), d0+(d1-d0)*f
		return Finger{1, Point{c.X - d/2, c.Y}}, Finger{2, Point{c.X + d/2, c.Y}}
	}
	a, b := at(0)
	s.Touch(TouchStart, a)
	time.Sleep(gestureStep)
	s.Touch(TouchStart, a, b)
	time.Sleep(gestureStep)
	for i := 1; i <= steps; i++ {
		a, b = at(float64(i) / float64(steps))
		s.Touch(TouchMove, a, b)
		time.Sleep(gestureStep)
	}
	s.Touch(TouchEnd)
}

// LongPress holds one still finger at p for hold, then lifts it.
func (s *Session) LongPress(p Point, hold time.Duration) {
	s.t.Helper()
	s.Touch(TouchStart, Finger{1, p})
	time.Sleep(hold)
	s.Touch(TouchEnd)
}

// The touch event types, for Touch.
const (
	TouchStart  = input.DispatchTouchEventTypeTouchStart
	TouchMove   = input.DispatchTouchEventTypeTouchMove
	TouchEnd    = input.DispatchTouchEventTypeTouchEnd
	TouchCancel = input.DispatchTouchEventTypeTouchCancel
)

// gestureStep is the pause between the events of a gesture: about a
// frame, so that each move reaches the page's handlers on its own as a
// real finger's would.
const gestureStep = 20 * time.Millisecond

func lerp(a, b Point, f float64) Point {
	return Point{a.X + (b.X-a.X)*f, a.Y + (b.Y-a.Y)*f}
}
