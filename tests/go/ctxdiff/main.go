// ctxdiff replays a script of context calls on Go's own context package (Go 1.21 or
// later: WithoutCancel, WithDeadlineCause, WithTimeoutCause, AfterFunc) and prints
// the state of every context after each line, for tests/go_context.rs to compare with
// scalelab's CancelToken.
//
// Script lines (stdin); contexts are numbered in the order they are made:
//
//	new                  WithCancelCause(Background())
//	child P              WithCancelCause(context P)
//	deadline P H [C]     WithDeadline(P, start + H hours), or WithDeadlineCause with
//	                     cause C (H = -1: already passed; 1 or 2: never reached here)
//	timeout P H [C]      WithTimeout(P, H hours), or WithTimeoutCause with cause C
//	without P            WithoutCancel(P) (it has no cancel function)
//	cancel I [C]         context I's cancel function: with cause C, or nil / none
//	after I              AfterFunc(I, f): f number K, in the order they are made
//	stop K               AfterFunc K's stop function; prints "stop K <result>"
//
// After each line it prints every AfterFunc that has run since ("fired K", in order of
// K; one whose context is done is waited for, since Go runs it in a goroutine of its
// own), then one line per context: "I err=<Err> cause=<Cause> deadline=<hours>".
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type afterFunc struct {
	ctx     context.Context
	stop    func() bool
	fired   chan struct{}
	stopped bool
	told    bool
}

func main() {
	start := time.Now()
	var contexts []context.Context
	// Each context's cancel function, taking an optional cause (nil where it has none).
	var cancels []func(cause error)
	var afters []*afterFunc
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	hours := func(s string) time.Duration {
		h, err := strconv.Atoi(s)
		if err != nil {
			panic(err)
		}
		return time.Duration(h) * time.Hour
	}
	text := func(err error) string {
		if err == nil {
			return "nil"
		}
		return err.Error()
	}
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		arg := func(i int) int {
			n, err := strconv.Atoi(f[i])
			if err != nil {
				panic(err)
			}
			return n
		}
		cause := func(i int) error {
			if len(f) > i {
				return errors.New(f[i])
			}
			return nil
		}
		add := func(ctx context.Context, cancel func(error)) {
			contexts = append(contexts, ctx)
			cancels = append(cancels, cancel)
		}
		plain := func(cancel context.CancelFunc) func(error) {
			return func(error) { cancel() }
		}
		switch f[0] {
		case "new":
			ctx, cancel := context.WithCancelCause(context.Background())
			add(ctx, cancel)
		case "child":
			ctx, cancel := context.WithCancelCause(contexts[arg(1)])
			add(ctx, cancel)
		case "deadline":
			at := start.Add(hours(f[2]))
			if c := cause(3); c != nil {
				ctx, cancel := context.WithDeadlineCause(contexts[arg(1)], at, c)
				add(ctx, plain(cancel))
			} else {
				ctx, cancel := context.WithDeadline(contexts[arg(1)], at)
				add(ctx, plain(cancel))
			}
		case "timeout":
			if c := cause(3); c != nil {
				ctx, cancel := context.WithTimeoutCause(contexts[arg(1)], hours(f[2]), c)
				add(ctx, plain(cancel))
			} else {
				ctx, cancel := context.WithTimeout(contexts[arg(1)], hours(f[2]))
				add(ctx, plain(cancel))
			}
		case "without":
			add(context.WithoutCancel(contexts[arg(1)]), nil)
		case "cancel":
			cancels[arg(1)](cause(2))
		case "after":
			a := &afterFunc{ctx: contexts[arg(1)], fired: make(chan struct{})}
			a.stop = context.AfterFunc(a.ctx, func() { close(a.fired) })
			afters = append(afters, a)
		case "stop":
			a := afters[arg(1)]
			stopped := a.stop()
			a.stopped = a.stopped || stopped
			fmt.Fprintf(out, "stop %d %t\n", arg(1), stopped)
		default:
			panic("unknown line: " + in.Text())
		}
		for k, a := range afters {
			if a.told || a.stopped || a.ctx.Err() == nil {
				continue
			}
			<-a.fired
			a.told = true
			fmt.Fprintf(out, "fired %d\n", k)
		}
		for i, ctx := range contexts {
			deadline := "none"
			if at, ok := ctx.Deadline(); ok {
				deadline = strconv.Itoa(int(at.Sub(start).Round(time.Hour) / time.Hour))
			}
			fmt.Fprintf(out, "%d err=%s cause=%s deadline=%s\n", i, text(ctx.Err()), text(context.Cause(ctx)), deadline)
		}
	}
}
