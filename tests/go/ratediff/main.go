// ratediff replays a script of limiter calls on golang.org/x/time/rate and prints
// each answer, so tests/go_differential.rs can check that scalelab's TokenBucket gives
// the same answers bit for bit. Built in GOPATH mode against Debian's
// golang-golang-x-time-dev.
//
// Script lines (times are nanoseconds after a fixed epoch):
//
//	new <limit|inf> <burst>      -> (nothing)
//	allow <t> <n>                -> allow <true|false>
//	reserve <t> <n>              -> reserve <ok> <delay from the epoch, ns> <delay from t, ns>
//	cancel <reservation#> <t>    -> (nothing; reservations are numbered from 0 per limiter)
//	limit <t> <limit|inf>        -> (nothing)
//	burst <t> <burst>            -> (nothing)
//	tokens <t>                   -> tokens <IEEE-754 bits of the float64, hex>
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

var epoch = time.Unix(1_000_000, 0)

func at(s string) time.Time {
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return epoch.Add(time.Duration(ns))
}

func limit(s string) rate.Limit {
	if s == "inf" {
		return rate.Inf
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return rate.Limit(f)
}

func integer(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	var lim *rate.Limiter
	var reservations []*rate.Reservation
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "new":
			lim = rate.NewLimiter(limit(f[1]), integer(f[2]))
			reservations = nil
		case "allow":
			fmt.Fprintf(out, "allow %v\n", lim.AllowN(at(f[1]), integer(f[2])))
		case "reserve":
			t := at(f[1])
			r := lim.ReserveN(t, integer(f[2]))
			reservations = append(reservations, r)
			fmt.Fprintf(out, "reserve %v %d %d\n", r.OK(), int64(r.DelayFrom(epoch)), int64(r.DelayFrom(t)))
		case "cancel":
			reservations[integer(f[1])].CancelAt(at(f[2]))
		case "limit":
			lim.SetLimitAt(at(f[1]), limit(f[2]))
		case "burst":
			lim.SetBurstAt(at(f[1]), integer(f[2]))
		case "tokens":
			fmt.Fprintf(out, "tokens %x\n", math.Float64bits(lim.TokensAt(at(f[1]))))
		default:
			panic("unknown op " + f[0])
		}
	}
}
