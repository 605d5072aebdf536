package output

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal of cols columns and returns its
// terminal side, so that the width and colour of a real terminal are
// tested without one attached to the test.
func openPTY(t *testing.T, cols uint16) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlocking the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("numbering the pseudo-terminal: %v", e)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	size := struct{ Row, Col, X, Y uint16 }{Row: 40, Col: cols}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pts.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&size))); e != 0 {
		t.Fatalf("setting the terminal size: %v", e)
	}
	return pts
}

func TestTerminalOnPTY(t *testing.T) {
	t.Parallel()
	pts := openPTY(t, 123)
	tests := []struct {
		name      string
		env       map[string]string
		width     int
		wantColor bool
	}{
		{"the terminal's width, in colour", nil, 123, true},
		{"COLUMNS wins over the terminal", map[string]string{"COLUMNS": "80"}, 80, true},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, 123, false},
	}
	for _, tt := range tests {
		if got := TerminalWidth(pts.Fd(), env(tt.env)); got != tt.width {
			t.Errorf("%s: TerminalWidth = %d, want %d", tt.name, got, tt.width)
		}
		if w, c := Terminal(pts, env(tt.env)); w != tt.width || c != tt.wantColor {
			t.Errorf("%s: Terminal = %d, %v; want %d, %v", tt.name, w, c, tt.width, tt.wantColor)
		}
	}
}
