package library

// Helpers shared with the browser test, which lives in package
// library_test because browsertest imports the app (and so this package).
var (
	PhantomZip   = phantomZip
	ZipBombBytes = zipBombBytes
	Small        = small
)
