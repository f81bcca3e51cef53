//! The fixed pieces of the generated Go program, as Go text (gofmt-formatted, Go 1.19+).
//! `super::program` picks the pieces a set-up needs and fills in its numbers; every
//! piece repeats, line for line, a Rust function named in its comment, so a change
//! there is a change here (the Go-agreement test, tests/go_program.rs, fails
//! otherwise).

/// The seeded draws: `crate::workload::draw`.
pub const DRAWS: &str = r#"// draws is xoshiro256++ seeded by SplitMix64, with the same transforms as scalelab's
// job plan: the same seed gives the same job costs and failures.
type draws struct{ s [4]uint64 }

func newDraws(seed uint64) *draws {
	d := &draws{}
	for i := range d.s {
		seed += 0x9E3779B97F4A7C15
		z := seed
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		d.s[i] = z ^ (z >> 31)
	}
	return d
}

func (d *draws) next() uint64 {
	s := &d.s
	out := bits.RotateLeft64(s[0]+s[3], 23) + s[0]
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return out
}

// unit is uniform in [0, 1); unitOpen in (0, 1].
func (d *draws) unit() float64     { return float64(d.next()>>11) * 0x1p-53 }
func (d *draws) unitOpen() float64 { return 1 - d.unit() }
func (d *draws) exp1() float64     { return -math.Log(d.unitOpen()) }

// normal is Box–Muller, one of the pair. The explicit float64 conversions keep Go
// from fusing a multiply and an add, so the arithmetic is scalelab's.
func (d *draws) normal() float64 {
	radius := math.Sqrt(-2 * math.Log(d.unitOpen()))
	return radius * math.Cos(float64(2*math.Pi)*d.unit())
}
"#;

/// The planner: `crate::workload::plan::Planner::next_job`.
pub const PLANNER_HEAD: &str = r#"// job is one planned job: it does cost units of work and then, if fails is set,
// returns an error.
type job struct {
	id     int
	cost   uint64
	fails  bool
	weight int64 // slots of the backend it holds (backend workload)
	offset uint64
	queued time.Time
}

// planner plans jobs one at a time, in submission order.
type planner struct {
	costs, failures, weights *draws
	next                     int
	offset                   uint64
}

func newPlanner() *planner {
	return &planner{
		costs:    newDraws(seed),
		failures: newDraws(seed ^ failureStream),
		weights:  newDraws(seed ^ weightStream),
	}
}

func (p *planner) plan() job {
"#;

/// Outcomes and the tally: `crate::engine::outcome` and the report's accounting line.
pub const TALLY: &str = r#"// result is how one job ended, and what its work returned.
type result struct {
	id      int
	outcome outcome
	value   uint64
}

// tally counts outcomes; the checksum is the wrapping sum of completed jobs' results.
type tally struct {
	submitted int
	counts    [outcomes]int
	checksum  uint64
}

func (t *tally) add(r result) {
	t.counts[r.outcome]++
	if r.outcome == completed {
		t.checksum += r.value
	}
}

// errInterrupted is a job's work stopped by cancellation between two chunks.
var errInterrupted = errors.New("interrupted")
"#;

/// The end of a channel pattern's `main`: tally every result until the channel closes,
/// add the jobs never sent, and print the accounting line.
pub const COLLECT_RESULTS: &str = "\tvar t tally
\tfor r := range results {
\t\tt.add(r)
\t}
\tt.submitted = submitted
\tt.counts[notStarted] += unsent
\tt.print(time.Since(start))
}
";

/// Running one job: the worker's side of `crate::engine::workers`.
pub const RUN_JOB: &str = r#"// runJob runs one job unless the run is already cancelled.
func runJob(ctx context.Context, j job) result {
	if ctx.Err() != nil {
		return result{id: j.id, outcome: notStarted}
	}
	value, err := work(ctx, j)
	switch {
	case err != nil:
		return result{id: j.id, outcome: cancelled}
	case j.fails:
		return result{id: j.id, outcome: failed, value: value}
	}
	return result{id: j.id, outcome: completed, value: value}
}
"#;

/// Primes: `crate::workload::kernels::count_primes`.
pub const WORK_PRIMES: &str = r#"const primeSegment = 32 * 1024

// work counts the primes in [offset, offset+cost) with a segmented sieve (one
// cancellation check per segment); the ranges of a run are contiguous.
func work(ctx context.Context, j job) (uint64, error) {
	lo, hi := j.offset, j.offset+j.cost
	if lo < 2 {
		lo = 2
	}
	if hi <= lo {
		return 0, nil
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
	prime := make([]bool, primeSegment)
	var count uint64
	for start := lo; start < hi; start += primeSegment {
		if ctx.Err() != nil {
			return 0, errInterrupted
		}
		end := start + primeSegment
		if end > hi {
			end = hi
		}
		cells := prime[:end-start]
		for i := range cells {
			cells[i] = true
		}
		for _, p := range base {
			if p*p >= end {
				break
			}
			first := (start + p - 1) / p * p
			if first < p*p {
				first = p * p
			}
			for i := first - start; i < uint64(len(cells)); i += p {
				cells[i] = false
			}
		}
		for _, c := range cells {
			if c {
				count++
			}
		}
	}
	return count, nil
}
"#;

/// SHA-256: `crate::workload::kernels::sha256_chain`.
pub const WORK_SHA256: &str = r#"const shaRoundsPerChunk = 256

// work hashes the job's seed with SHA-256, then the digest again, cost times in all,
// and returns the first 8 bytes of the last digest.
func work(ctx context.Context, j job) (uint64, error) {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], seed*1000003+uint64(j.id))
	digest := sha256.Sum256(buf[:])
	for done := uint64(1); done < j.cost; {
		if ctx.Err() != nil {
			return 0, errInterrupted
		}
		end := done + shaRoundsPerChunk
		if end > j.cost {
			end = j.cost
		}
		for ; done < end; done++ {
			digest = sha256.Sum256(digest[:])
		}
	}
	return binary.BigEndian.Uint64(digest[:8]), nil
}
"#;

/// Mandelbrot: `crate::workload::kernels::mandelbrot_rows` over the tile of
/// `crate::workload::execute::run_cpu`.
pub const WORK_MANDELBROT: &str = r#"const (
	mandelWidth   = 64
	mandelMaxIter = 256
)

// work renders a 64-pixel-wide tile of the full view [-2, 1] x [-1.5, 1.5] with
// cost/64 rows and returns the sum of escape iterations.
func work(ctx context.Context, j job) (uint64, error) {
	rows := int(math.Max(1, math.Round(float64(j.cost)/mandelWidth)))
	var total uint64
	for row := 0; row < rows; row++ {
		if ctx.Err() != nil {
			return 0, errInterrupted
		}
		ci := -1.5 + float64(3*float64(row))/float64(rows)
		for col := 0; col < mandelWidth; col++ {
			cr := -2 + float64(3*float64(col))/mandelWidth
			x, y := 0.0, 0.0
			n := 0
			for n < mandelMaxIter && float64(x*x)+float64(y*y) <= 4 {
				x, y = float64(x*x)-float64(y*y)+cr, float64(2*x*y)+ci
				n++
			}
			total += uint64(n)
		}
	}
	return total, nil
}
"#;

/// Spin: `crate::workload::kernels::spin`.
pub const WORK_SPIN: &str = r#"// work spins on the CPU for cost microseconds, checking for cancellation as it goes,
// and returns cost.
func work(ctx context.Context, j job) (uint64, error) {
	until := time.Now().Add(time.Duration(j.cost) * time.Microsecond)
	for time.Now().Before(until) {
		select {
		case <-ctx.Done():
			return 0, errInterrupted
		default:
		}
	}
	return j.cost, nil
}
"#;

/// A cancellable wait on a timer (the sleep and backend workloads).
pub const TIMER_WAIT: &str = r#"// wait waits d on a timer, or until ctx is done.
func wait(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return errInterrupted
	}
}
"#;

/// Sleep: `crate::workload::execute::sleep_result` after a timer.
pub const WORK_SLEEP: &str = r#"// work waits cost microseconds on a timer, like time.Sleep or a network call, and
// returns the job's id times two.
func work(ctx context.Context, j job) (uint64, error) {
	if err := wait(ctx, time.Duration(j.cost)*time.Microsecond); err != nil {
		return 0, err
	}
	return uint64(j.id) * 2, nil
}
"#;

/// Backend: a shared backend of `backendSlots` (FIFO, as scalelab's); a job holds
/// `weight` of its slots.
pub const WORK_BACKEND: &str = r#"// backend serves backendSlots slots at once; the others wait in line (FIFO).
var backend = semaphore.NewWeighted(backendSlots)

// work calls the backend: it waits for the job's weight in slots, then cost
// microseconds of service, and returns the job's id times two times its weight.
func work(ctx context.Context, j job) (uint64, error) {
	if err := backend.Acquire(ctx, j.weight); err != nil {
		return 0, errInterrupted
	}
	defer backend.Release(j.weight)
	if err := wait(ctx, time.Duration(j.cost)*time.Microsecond); err != nil {
		return 0, err
	}
	return uint64(j.id) * 2 * uint64(j.weight), nil
}
"#;

/// The open-loop schedule: `crate::workload::arrival::ArrivalSchedule::next_ns`.
pub const SCHEDULE: &str = r#"// segment is a piece of the rate profile: the rate goes linearly from `from` to `to`
// jobs/s over length seconds (the last may be endless).
type segment struct{ length, from, to float64 }

func (s segment) slope() float64 {
	if !math.IsInf(s.length, 1) && s.length > 0 {
		return (s.to - s.from) / s.length
	}
	return 0
}

func (s segment) rateAt(offset float64) float64 { return s.from + float64(s.slope()*offset) }

// areaAfter is the expected number of arrivals from offset to the segment's end.
func (s segment) areaAfter(offset float64) float64 {
	left := s.length - offset
	if left <= 0 {
		return 0
	}
	r := s.rateAt(offset)
	if math.IsInf(left, 1) {
		if r > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return left * (r + s.to) / 2
}

// advance is the time after offset by which need arrivals are expected.
func (s segment) advance(offset, need float64) float64 {
	r, slope := s.rateAt(offset), s.slope()
	root := math.Sqrt(math.Max(float64(r*r)+float64(2*slope*need), 0))
	if r+root > 0 {
		return 2 * need / (r + root)
	}
	return 0
}

// schedule hands out intended start times: job k at Λ⁻¹(k) (even spacing) or at
// Λ⁻¹(E₁ + … + E_k) with Exp(1) gaps (Poisson), where Λ(t) is the expected number of
// arrivals by t.
type schedule struct {
	segments             []segment
	poisson              *draws
	first                bool
	index                int
	offset, segmentStart float64
	end                  float64
}

func (s *schedule) next() (time.Duration, bool) {
	need := 1.0
	if s.poisson != nil {
		need = s.poisson.exp1()
	} else if s.first {
		need, s.first = 0, false
	}
	for s.index < len(s.segments) {
		seg := s.segments[s.index]
		left := seg.areaAfter(s.offset)
		if need <= left && !(need == 0 && seg.rateAt(s.offset) <= 0) {
			s.offset += seg.advance(s.offset, need)
			t := s.segmentStart + s.offset
			return time.Duration(math.Round(t * 1e9)), t < s.end
		}
		need -= left
		s.segmentStart += seg.length
		s.index++
		s.offset = 0
		if s.segmentStart >= s.end {
			return 0, false
		}
	}
	return 0, false
}
"#;
