//go:build unix

package moderation

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) this process has used,
// for the evaluation's checks per CPU-second, which other load on the
// machine does not distort as it does wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
