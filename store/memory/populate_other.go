//go:build unix && !linux

package memory

import "errors"

// populateWrite is not offered here: a mapping's pages fault as they are
// used.
func populateWrite([]byte) error { return errors.ErrUnsupported }
