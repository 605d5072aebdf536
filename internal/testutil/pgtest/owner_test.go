package pgtest_test

import (
	"os"
	"syscall"
)

func ownerUID(st os.FileInfo) uint32 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Uid
	}
	return 0
}
