// Command vigie is the moderation bot: `vigie run` starts it; check, test and
// replay let a community manager try a rule file before it goes live.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"os/user"
	"sync"
	"syscall"
	"time"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(realMain())
}

// realMain turns the process into a context and a reload channel, and hands
// them to the commands; it returns the exit code so that deferred calls run.
func realMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	var wg sync.WaitGroup
	forwardCtx, stopForward := context.WithCancel(ctx)
	wg.Go(func() {
		for {
			select {
			case <-hup:
				// A reload already pending covers this one too.
				select {
				case reload <- struct{}{}:
				default:
				}
			case <-forwardCtx.Done():
				// A second Ctrl-C kills at once, should shutting down hang
				// (a replay blocked reading a terminal).
				stop()
				return
			}
		}
	})
	defer wg.Wait()
	defer stopForward()

	c := &cli{
		stdin:          os.Stdin,
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		getenv:         os.Getenv,
		now:            time.Now,
		account:        accountName,
		reload:         reload,
		stderrTerminal: isTerminal(os.Stderr),
	}
	return c.run(ctx, os.Args[1:])
}

// accountName is the name of the account the process runs as, "" when the
// system does not say (a uid with no entry in /etc/passwd).
func accountName() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// isTerminal reports whether f is a character device, which is how a terminal
// looks; a pipe or a regular file is not one.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// cli is everything a command may touch of the process, so tests can run the
// commands in-process with their own streams and environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// now is the clock: vigie run's (daemon.Config.Now), and the one the
	// commands read for what is relative to now (a case's age, the report's
	// period, whether a question to vigie faq comes after hours). vigie run
	// keeps the wall clock's timers: a clock given here moves at its pace.
	now func() time.Time
	// account is the name of the account the process runs as, for what
	// names the person at the terminal when the environment does not
	// (vigie cases decide's --by without VIGIE_CM or USER: under sudo -i,
	// su, cron or a container USER may be unset); nil or "" when unknown.
	account func() string
	reload  <-chan struct{}
	// stderrTerminal enables replay's progress line.
	stderrTerminal bool
}
