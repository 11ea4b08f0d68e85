//go:build !(js && wasm)

package library

import (
	"context"
	"errors"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// platform is the panel's tie to the page; outside a browser (server
// prerendering, go-app's test engine) the library lives in memory.
type platform struct{}

func (platform) openStorage(context.Context) (hackpadfs.FS, error) { return mem.NewFS() }
func (platform) askPersist() bool                                  { return false }
func (platform) estimate() (used, quota int64)                     { return 0, 0 }
func (platform) mount(app.Context, *Panel)                         {}
func (platform) dismount()                                         {}
func (platform) idle()                                             {}

func (platform) fetchSample(func(done, total int)) (Decoder, string, error) {
	return nil, "", errors.New("the sample study is fetched only in the browser")
}

func logInfo(string)      {}
func setData(string, any) {}
func perfNow() float64    { return 0 }

// onInput reads the browser's File objects; outside one there are none.
func (p *Panel) onInput(app.Context, app.Event) {}
