// groupdiff replays a script of errgroup calls on golang.org/x/sync/errgroup and prints
// what happened after each line, for tests/go_errgroup.rs to compare with scalelab's
// errgroup::Group.
//
// Script lines (stdin):
//
//	group         a new group, errgroup.WithContext(context.Background())
//	limit N       SetLimit(N) (-1: no limit); a panic is reported, not raised
//	go K          Go(task K)
//	trygo K       TryGo(task K)
//	end K ok|err  task K returns nil, or the error "task K failed"
//	wait          Wait()
//
// Each task waits for its `end` line. After each line but `group` the other goroutines
// run until they block (GOMAXPROCS=1 and repeated runtime.Gosched), then it prints
// whether the group's context is cancelled.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

func settle() {
	for i := 0; i < 200; i++ {
		runtime.Gosched()
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	var g *errgroup.Group
	var ctx context.Context
	ends := map[int]chan bool{}
	task := func(k int) func() error {
		end := make(chan bool, 1)
		ends[k] = end
		return func() error {
			if <-end {
				return nil
			}
			return fmt.Errorf("task %d failed", k)
		}
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		num := func(i int) int {
			n, err := strconv.Atoi(f[i])
			if err != nil {
				panic(err)
			}
			return n
		}
		switch f[0] {
		case "group":
			g, ctx = errgroup.WithContext(context.Background())
			continue
		case "limit":
			func() {
				defer func() {
					if recover() != nil {
						fmt.Fprintln(out, "limit panic")
					}
				}()
				g.SetLimit(num(1))
				fmt.Fprintln(out, "limit ok")
			}()
		case "go":
			g.Go(task(num(1)))
		case "trygo":
			fmt.Fprintf(out, "trygo %d %v\n", num(1), g.TryGo(task(num(1))))
		case "end":
			ends[num(1)] <- f[2] == "ok"
		case "wait":
			if err := g.Wait(); err != nil {
				fmt.Fprintf(out, "wait %v\n", err)
			} else {
				fmt.Fprintln(out, "wait nil")
			}
		}
		settle()
		fmt.Fprintf(out, "cancelled %v\n", ctx.Err() != nil)
	}
}
