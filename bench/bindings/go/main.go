// Go side of the binding benchmark: each pyrt call against a plain Go
// equivalent in the same process. Prints "name nanoseconds-per-call" lines.
package main

import (
	"fmt"
	"math"
	"os"
	"time"

	"pyrt.dev/pyrt"
)

func walk(n int) []float64 {
	p := make([]float64, n)
	x, s := 100.0, uint32(12345)
	for i := range p {
		s = s*1103515245 + 12345
		x += float64((s>>16)&0x7fff)/32768.0 - 0.5
		p[i] = x
	}
	return p
}

// smaLoop is the plain Go SMA (TA-Lib's definition, window 30): a running sum.
func smaLoop(in, out []float64, window int) {
	sum := 0.0
	for i, v := range in {
		sum += v
		if i >= window {
			sum -= in[i-window]
		}
		if i >= window-1 {
			out[i] = sum / float64(window)
		} else {
			out[i] = math.NaN()
		}
	}
}

// best runs f iters times per round and keeps the fastest round: the least
// disturbed by other work on the machine.
func best(iters int, f func()) float64 {
	b := math.Inf(1)
	for round := 0; round < 5; round++ {
		t0 := time.Now()
		for i := 0; i < iters; i++ {
			f()
		}
		if t := float64(time.Since(t0).Nanoseconds()) / float64(iters); t < b {
			b = t
		}
	}
	return b
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	small, big := walk(1000), walk(1000000)
	smallOut, bigOut := make([]float64, len(small)), make([]float64, len(big))

	fmt.Printf("loop_sma_1k %.1f\n", best(20000, func() { smaLoop(small, smallOut, 30) }))
	fmt.Printf("run_sma_1k %.1f\n", best(20000, func() { _, err := pyrt.Run("SMA", [][]float64{small}, nil); must(err) }))
	fmt.Printf("runinto_sma_1k %.1f\n", best(20000, func() {
		must(pyrt.RunInto("SMA", [][]float64{small}, nil, [][]float64{smallOut}))
	}))
	fmt.Printf("loop_sma_1m %.1f\n", best(20, func() { smaLoop(big, bigOut, 30) }))
	fmt.Printf("run_sma_1m %.1f\n", best(20, func() { _, err := pyrt.Run("SMA", [][]float64{big}, nil); must(err) }))
	fmt.Printf("runinto_sma_1m %.1f\n", best(20, func() {
		must(pyrt.RunInto("SMA", [][]float64{big}, nil, [][]float64{bigOut}))
	}))

	// One update: the plain alternative is the same running sum kept by hand.
	stream, err := pyrt.NewStream("SMA", [][]float64{small}, nil)
	must(err)
	i := 0
	fmt.Printf("update %.1f\n", best(1000000, func() {
		i++
		_, err := stream.Update(100.0 + float64(i&15))
		must(err)
	}))
	window := append([]float64(nil), small[len(small)-30:]...)
	sum, pos := 0.0, 0
	for _, v := range window {
		sum += v
	}
	var sink float64
	fmt.Printf("loop_update %.1f\n", best(1000000, func() {
		i++
		v := 100.0 + float64(i&15)
		sum += v - window[pos]
		window[pos] = v
		pos = (pos + 1) % 30
		sink = sum / 30
	}))
	_ = sink
	stream.Close()

	// PopBatch of 4096 records (pushed untimed before each pop); the plain
	// alternative copies 4096 records out of a Go slice.
	name := fmt.Sprintf("pyrt-bench-go-%d", os.Getpid())
	ring, err := pyrt.CreateRing(name, 8192)
	must(err)
	defer pyrt.UnlinkRing(name)
	recs := make([]pyrt.Record, 4096)
	for k := range recs {
		recs[k] = pyrt.Record{SymbolID: uint32(k % 1000), Price: float64(k) * 0.5, Volume: float64(k%7 + 1), TimestampUS: uint64(k)}
	}
	popBest := math.Inf(1)
	for round := 0; round < 5; round++ {
		var total time.Duration
		for it := 0; it < 2000; it++ {
			_, err := ring.PushBatch(recs)
			must(err)
			t0 := time.Now()
			got, err := ring.PopBatch(4096)
			total += time.Since(t0)
			must(err)
			if len(got) != 4096 {
				must(fmt.Errorf("popped %d", len(got)))
			}
		}
		if t := float64(total.Nanoseconds()) / 2000; t < popBest {
			popBest = t
		}
	}
	fmt.Printf("pop_4096 %.1f\n", popBest)
	buf := make([]pyrt.Record, 4096)
	popBest = math.Inf(1)
	for round := 0; round < 5; round++ {
		var total time.Duration
		for it := 0; it < 2000; it++ {
			_, err := ring.PushBatch(recs)
			must(err)
			t0 := time.Now()
			n, err := ring.PopInto(buf)
			total += time.Since(t0)
			must(err)
			if n != 4096 {
				must(fmt.Errorf("popped %d", n))
			}
		}
		if t := float64(total.Nanoseconds()) / 2000; t < popBest {
			popBest = t
		}
	}
	fmt.Printf("popinto_4096 %.1f\n", popBest)
	queue := make([]pyrt.Record, 8192)
	copy(queue, recs)
	fmt.Printf("loop_pop_4096 %.1f\n", best(2000, func() {
		copy(buf, queue[:4096])
		queue[0] = buf[4095]
	}))
	ring.Close()
}
