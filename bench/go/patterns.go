// The article's worker pool and fan-out/fan-in in Go, with the same CPU kernel as
// scalelab's `primes` workload (a segmented sieve over a contiguous range per job),
// for bench/run.mjs to compare throughput. Prints one JSON object.
//
// Usage: go run bench/go/patterns.go -pattern pool|fanout -workers N -jobs 600 -cost 200000 -reps 5
package main

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"runtime"
	"sync"
	"time"
)

const segment = 32 * 1024

// countPrimes counts the primes in [lo, hi), exactly as scalelab's count_primes does.
func countPrimes(lo, hi uint64) uint64 {
	if lo < 2 {
		lo = 2
	}
	if hi <= lo {
		return 0
	}
	limit := uint64(math.Sqrt(float64(hi - 1)))
	for limit*limit > hi-1 {
		limit--
	}
	for (limit+1)*(limit+1) <= hi-1 {
		limit++
	}
	composite := make([]bool, limit+1)
	var base []uint64
	for n := uint64(2); n <= limit; n++ {
		if !composite[n] {
			base = append(base, n)
			for m := n * n; m <= limit; m += n {
				composite[m] = true
			}
		}
	}
	seg := make([]bool, segment)
	var count uint64
	for start := lo; start < hi; start += segment {
		end := start + segment
		if end > hi {
			end = hi
		}
		n := end - start
		for i := uint64(0); i < n; i++ {
			seg[i] = true
		}
		for _, p := range base {
			if p*p >= end {
				break
			}
			first := p * p
			if f := (start + p - 1) / p * p; f > first {
				first = f
			}
			for m := first; m < end; m += p {
				seg[m-start] = false
			}
		}
		for i := uint64(0); i < n; i++ {
			if seg[i] {
				count++
			}
		}
	}
	return count
}

// pool is the article's worker pool: workers range over a jobs channel, results fan in.
func pool(workers, jobs int, cost uint64) uint64 {
	jobsCh := make(chan int, 64)
	results := make(chan uint64, 64)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobsCh {
				lo := uint64(j) * cost
				results <- countPrimes(lo, lo+cost)
			}
		}()
	}
	go func() {
		for j := 0; j < jobs; j++ {
			jobsCh <- j
		}
		close(jobsCh)
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var total uint64
	for r := range results {
		total += r
	}
	return total
}

// fanOut is the article's fan-out/fan-in: a goroutine per job, results on one channel.
func fanOut(jobs int, cost uint64) uint64 {
	out := make(chan uint64, jobs)
	for j := 0; j < jobs; j++ {
		go func(j int) {
			lo := uint64(j) * cost
			out <- countPrimes(lo, lo+cost)
		}(j)
	}
	var total uint64
	for i := 0; i < jobs; i++ {
		total += <-out
	}
	return total
}

func main() {
	pattern := flag.String("pattern", "pool", "pool or fanout")
	workers := flag.Int("workers", runtime.NumCPU(), "pool workers; also GOMAXPROCS")
	jobs := flag.Int("jobs", 600, "jobs")
	cost := flag.Uint64("cost", 200000, "numbers sieved per job")
	reps := flag.Int("reps", 5, "repetitions")
	flag.Parse()
	runtime.GOMAXPROCS(*workers)
	run := func() uint64 {
		if *pattern == "fanout" {
			return fanOut(*jobs, *cost)
		}
		return pool(*workers, *jobs, *cost)
	}
	run() // warm-up
	var throughputs []float64
	var primes uint64
	for r := 0; r < *reps; r++ {
		start := time.Now()
		primes = run()
		throughputs = append(throughputs, float64(*jobs)/time.Since(start).Seconds())
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"pattern": *pattern, "workers": *workers, "jobs": *jobs, "cost": *cost,
		"primes": primes, "throughput": throughputs, "go": runtime.Version(),
	})
}
