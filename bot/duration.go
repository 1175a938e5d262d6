package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxDuration bounds what ParseDuration accepts, a century: far beyond any
// window, timeout or ban, and far from time.Duration's overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// ParseDuration reads durations the way a CM writes them: Go's forms (90s, 1h30m,
// 500ms) plus d (24 hours) and w (7 days), so that "7d" or "2w3d" work. Only
// positive durations are accepted: every duration in a rule file is a window, a
// timeout or a ban length. It reads what FormatDuration writes.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty duration")
	}
	if strings.HasPrefix(in, "-") {
		return 0, fmt.Errorf("invalid duration %q: must be positive", s)
	}
	if !strings.ContainsAny(in, "dw") {
		d, err := time.ParseDuration(in)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (want a number and a unit: 30s, 10m, 2h, 7d, 1w)", s)
		}
		if d <= 0 {
			return 0, fmt.Errorf("invalid duration %q: must be positive", s)
		}
		return d, nil
	}
	// Split off the d and w parts, hand the rest to time.ParseDuration.
	var total time.Duration
	var rest strings.Builder
	for len(in) > 0 {
		i := 0
		for i < len(in) && (in[i] == '.' || in[i] >= '0' && in[i] <= '9') {
			i++
		}
		j := i
		for j < len(in) && !(in[j] == '.' || in[j] >= '0' && in[j] <= '9') {
			j++
		}
		num, unit := in[:i], in[i:j]
		if num == "" || unit == "" {
			return 0, fmt.Errorf("invalid duration %q (want a number and a unit: 30s, 10m, 2h, 7d, 1w)", s)
		}
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			if f*float64(day) > float64(maxDuration) {
				return 0, fmt.Errorf("invalid duration %q: longer than a century", s)
			}
			total += time.Duration(f * float64(day))
		default:
			rest.WriteString(in[:j])
		}
		in = in[j:]
	}
	if rest.Len() > 0 {
		d, err := time.ParseDuration(rest.String())
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (want a number and a unit: 30s, 10m, 2h, 7d, 1w)", s)
		}
		total += d
	}
	if total <= 0 {
		return 0, fmt.Errorf("invalid duration %q: must be positive", s)
	}
	if total > maxDuration {
		return 0, fmt.Errorf("invalid duration %q: longer than a century", s)
	}
	return total, nil
}
