module ctlens

go 1.26.8

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/chromedp/chromedp v0.23.0
	github.com/cogentcore/webgpu v0.23.0
	github.com/hack-pad/hackpadfs v0.2.4
	github.com/maxence-charriere/go-app/v10 v10.1.11
	github.com/suyashkumar/dicom v1.1.0
	github.com/x448/float16 v0.8.4
	golang.org/x/text v0.3.8
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hack-pad/go-indexeddb v0.3.2 // indirect
	github.com/hack-pad/safejs v0.1.0 // indirect
	golang.org/x/exp v0.0.0-20240525044651-4c93da0ed11d // indirect
)
