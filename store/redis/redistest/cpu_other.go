//go:build !unix

package redistest

import "time"

// ProcessCPU is not measured here.
func ProcessCPU() time.Duration { return 0 }
