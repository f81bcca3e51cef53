// semdiff replays a script of semaphore calls on golang.org/x/sync/semaphore and
// prints what happened after each line, for tests/go_semaphore.rs to compare with
// scalelab's semaphore::Weighted.
//
// Script lines (stdin):
//
//	new N          a new Weighted(N)
//	acquire K N C  acquire N in a new goroutine (number K) with context C
//	try N          TryAcquire(N)
//	release N      Release(N) (a panic is reported, not raised)
//	cancel C       cancel context C
//
// Contexts are numbered; each is made on first use by context.WithCancel. After each
// line the other goroutines run until they block (GOMAXPROCS=1 and repeated
// runtime.Gosched), then it prints the acquires that finished, by K, and whether
// anyone waits (TryAcquire(0) fails exactly then); `new` prints nothing.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/semaphore"
)

type done struct {
	k   int
	err error
}

func settle() {
	for i := 0; i < 200; i++ {
		runtime.Gosched()
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	var sem *semaphore.Weighted
	contexts := map[int]context.Context{}
	cancels := map[int]context.CancelFunc{}
	ctx := func(c int) context.Context {
		if _, ok := contexts[c]; !ok {
			contexts[c], cancels[c] = context.WithCancel(context.Background())
		}
		return contexts[c]
	}
	finished := make(chan done, 1024)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		num := func(i int) int64 {
			n, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				panic(err)
			}
			return n
		}
		switch f[0] {
		case "new":
			sem = semaphore.NewWeighted(num(1))
			continue
		case "acquire":
			k, n, c := int(num(1)), num(2), ctx(int(num(3)))
			go func() { finished <- done{k, sem.Acquire(c, n)} }()
		case "try":
			fmt.Fprintf(out, "try %v\n", sem.TryAcquire(num(1)))
		case "release":
			func() {
				defer func() {
					if recover() != nil {
						fmt.Fprintln(out, "release panic")
					}
				}()
				sem.Release(num(1))
			}()
		case "cancel":
			ctx(int(num(1)))
			cancels[int(num(1))]()
		}
		settle()
		var ds []done
		for len(finished) > 0 {
			ds = append(ds, <-finished)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].k < ds[j].k })
		for _, d := range ds {
			fmt.Fprintf(out, "done %d %v\n", d.k, d.err == nil)
		}
		fmt.Fprintf(out, "waiting %v\n", !sem.TryAcquire(0))
	}
}
