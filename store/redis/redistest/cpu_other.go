//go:build !unix

package redistest

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
