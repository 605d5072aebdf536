package app

import (
	"path/filepath"
	"strings"
)

// pluginName is the file name kubectl looks for on PATH to run
// `kubectl purser`; `make install` and krew install purser under it.
const pluginName = "kubectl-purser"

// DisplayName is how help and usage name the program that was started as
// arg0 (os.Args[0]): "kubectl purser" when kubectl ran it as its plugin,
// so that every usage line can be typed as shown, else "purser" whatever
// the file is called.
func DisplayName(arg0 string) string {
	base := strings.TrimSuffix(filepath.Base(arg0), ".exe")
	if base == pluginName {
		return "kubectl purser"
	}
	return "purser"
}
