// Command purser keeps a Kubernetes cluster clean, cheap and governed.
package main

import (
	"os"

	"github.com/purserhq/purser/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
