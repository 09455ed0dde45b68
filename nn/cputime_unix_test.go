//go:build unix

package nn

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) used by the process so
// far, to report throughput per CPU-second on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
