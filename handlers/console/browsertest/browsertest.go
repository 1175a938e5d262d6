// Package browsertest starts the headless Chromium the console's browser
// tests drive with chromedp. make test installs Debian's chromium and sets
// VIGIE_TEST_BROWSER=required, so that a missing browser fails there;
// elsewhere the tests that need it are skipped.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds Chromium, or fails the test (VIGIE_TEST_BROWSER=required) or
// skips it.
func Path(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VIGIE_TEST_BROWSER") == "required" {
		t.Fatal("no chromium on PATH (make test installs Debian's when run as root)")
	}
	t.Skip("no chromium on PATH: the console's browser tests are skipped")
	return ""
}

// Tab starts a headless Chromium for the test, 1280×900 unless flags say
// otherwise, closed at the test's end, and returns its tab (for 90 seconds
// at most).
func Tab(t *testing.T, flags ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(Path(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, flags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}
