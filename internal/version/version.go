// Package version carries the build's version, set by the linker:
//
//	go build -ldflags "-X github.com/purserhq/purser/internal/version.Version=v1.2.3"
package version

// Version is written by the linker only; nothing assigns it at run time.
var Version = "dev"
