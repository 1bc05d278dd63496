package pyrt

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVersionMatchesPython(t *testing.T) {
	out := runPeerCode(t, "import pyrt; print(pyrt.__version__)")
	if got := Version(); got != strings.TrimSpace(out) {
		t.Fatalf("Version() = %q, Python's pyrt.__version__ = %q", got, out)
	}
}

func runPeerCode(t *testing.T, code string) string {
	t.Helper()
	cmd := peerCommand(t)
	cmd.Args = []string{python(t), "-c", code}
	cmd.Stderr = nil
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python -c %q: %v\n%s", code, err, out)
	}
	return string(out)
}

func TestCatalogListsEveryIndicatorWithTalibNames(t *testing.T) {
	list := Indicators()
	if len(list) < 6 {
		t.Fatalf("catalog has %d indicators, expected at least the six original ones", len(list))
	}
	macd, err := Lookup("MACD")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(macd.Outputs) != "[macd macdsignal macdhist]" || fmt.Sprint(macd.Inputs) != "[real]" {
		t.Fatalf("MACD record: inputs %v outputs %v", macd.Inputs, macd.Outputs)
	}
	names := []string{}
	for _, p := range macd.Params {
		names = append(names, p.Name)
	}
	if fmt.Sprint(names) != "[fastperiod slowperiod signalperiod]" {
		t.Fatalf("MACD params %v", names)
	}
}

// Every catalog function through Run, with default and with other
// parameters, bit for bit equal to pyrt.talib on the same walk.
func TestRunEqualsPythonBitForBit(t *testing.T) {
	ref := loadReference(t)
	if len(ref.Functions) != len(Indicators()) {
		t.Fatalf("Python saw %d catalog functions, Go %d", len(ref.Functions), len(Indicators()))
	}
	for _, f := range ref.Functions {
		for _, run := range f.Runs {
			got, err := Run(f.Name, ref.series(f.Inputs), run.Params)
			if err != nil {
				t.Errorf("Run(%s, %v): %v", f.Name, run.Params, err)
				continue
			}
			if len(got) != len(run.Outputs) {
				t.Errorf("Run(%s): %d outputs, Python %d", f.Name, len(got), len(run.Outputs))
				continue
			}
			for k := range got {
				want := decodeF64(run.Outputs[k])
				if i := sameBits(got[k], want); i >= 0 {
					t.Errorf("Run(%s, %v) output %s differs from pyrt.talib at bar %d: %v vs %v",
						f.Name, run.Params, f.Outputs[k], i, valueAt(got[k], i), valueAt(want, i))
				}
			}
		}
	}
}

func valueAt(v []float64, i int) any {
	if i < len(v) {
		return v[i]
	}
	return "missing"
}

// Python's saved state resumes in Go and gives the values Python gets (which
// the peer checked against TA-Lib's).
func TestPythonStreamStateResumesInGo(t *testing.T) {
	ref := loadReference(t)
	for _, f := range ref.Functions {
		if f.Stream.TalibMismatch != nil {
			t.Errorf("%s: Python's own stream is off TA-Lib: %s", f.Name, *f.Stream.TalibMismatch)
		}
		state, _ := base64.StdEncoding.DecodeString(f.Stream.State)
		s, err := LoadStream(state)
		if err != nil {
			t.Errorf("LoadStream(%s state): %v", f.Name, err)
			continue
		}
		if s.Indicator().Name != f.Name {
			t.Errorf("state of %s loads as %s", f.Name, s.Indicator().Name)
		}
		series := ref.series(f.Inputs)
		var got []float64
		for k := 0; k < f.Stream.Ticks; k++ {
			tick := make([]float64, len(series))
			for i := range series {
				tick[i] = series[i][f.Stream.History+k]
			}
			out, err := s.Update(tick...)
			if err != nil {
				t.Fatalf("%s Update: %v", f.Name, err)
			}
			got = append(got, out...)
		}
		if i := sameBits(got, decodeF64(f.Stream.Values)); i >= 0 {
			t.Errorf("%s resumed in Go: %v, in Python: %v", f.Name, got, decodeF64(f.Stream.Values))
		}
		s.Close()
	}
}

// Go's saved state resumes in Python: same values bit for bit, and TA-Lib's.
func TestGoStreamStateResumesInPython(t *testing.T) {
	ref := loadReference(t)
	type saved struct {
		Name   string `json:"name"`
		State  string `json:"state"`
		Start  int    `json:"start"`
		Values string `json:"values"`
	}
	var all []saved
	const history, before, after = 250, 7, 12
	for _, f := range ref.Functions {
		series := ref.series(f.Inputs)
		hist := make([][]float64, len(series))
		for i := range series {
			hist[i] = series[i][:history]
		}
		s, err := NewStream(f.Name, hist, nil)
		if err != nil {
			t.Errorf("NewStream(%s): %v", f.Name, err)
			continue
		}
		tick := func(k int) []float64 {
			v := make([]float64, len(series))
			for i := range series {
				v[i] = series[i][k]
			}
			return v
		}
		for k := history; k < history+before; k++ {
			if _, err := s.Update(tick(k)...); err != nil {
				t.Fatal(err)
			}
		}
		state, err := s.Save()
		if err != nil {
			t.Fatalf("%s Save: %v", f.Name, err)
		}
		var values []float64
		for k := history + before; k < history+before+after; k++ {
			out, err := s.Update(tick(k)...)
			if err != nil {
				t.Fatal(err)
			}
			values = append(values, out...)
		}
		s.Close()
		all = append(all, saved{f.Name, base64.StdEncoding.EncodeToString(state), history + before, encodeF64(values)})
	}
	path := filepath.Join(t.TempDir(), "go-states.json")
	raw, _ := json.Marshal(all)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPeer(t, "resume", path)
	if !strings.Contains(out, fmt.Sprintf("resumed %d states, 0 failures", len(all))) {
		t.Fatalf("Python resuming Go's states: %s", out)
	}
}

func TestBadInputIsAnErrorWithTheCoresMessage(t *testing.T) {
	close := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	cases := []struct {
		name   string
		call   func() error
		status Status
		says   string
	}{
		{"unknown name", func() error { _, err := Run("NOPE", [][]float64{close}, nil); return err }, StatusNotFound, "NOPE"},
		{"wrong input count", func() error { _, err := Run("SMA", [][]float64{close, close}, nil); return err }, StatusInvalidArgument, "input"},
		// Nine series take the pinned path (past the eight pointer slots of the C helper).
		{"nine inputs", func() error {
			nine := make([][]float64, 9)
			for i := range nine {
				nine[i] = close
			}
			_, err := Run("SMA", nine, nil)
			return err
		}, StatusInvalidArgument, "input"},
		{"mismatched lengths", func() error { _, err := Run("ATR", [][]float64{close, close, close[:9]}, nil); return err }, StatusInvalidArgument, "close"},
		{"out-of-range parameter", func() error {
			_, err := Run("SMA", [][]float64{close}, map[string]float64{"timeperiod": 0})
			return err
		}, StatusInvalidArgument, "timeperiod"},
		{"unknown parameter", func() error {
			_, err := Run("SMA", [][]float64{close}, map[string]float64{"period": 3})
			return err
		}, StatusInvalidArgument, "timeperiod"},
		{"NUL in a name", func() error { _, err := Run("SMA\x00", [][]float64{close}, nil); return err }, StatusInvalidArgument, "NUL"},
		{"short history", func() error { _, err := NewStream("SMA", [][]float64{close[:3]}, nil); return err }, StatusInsufficientHistory, ""},
		{"garbage state", func() error { _, err := LoadStream([]byte("not a state")); return err }, StatusInvalidState, ""},
		{"empty state", func() error { _, err := LoadStream(nil); return err }, StatusInvalidState, ""},
		{"missing ring", func() error { _, err := OpenRing("pyrt-go-no-such-ring"); return err }, StatusNotFound, "pyrt-go-no-such-ring"},
	}
	for _, c := range cases {
		err := c.call()
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, expected a *pyrt.Error", c.name, err)
			continue
		}
		if e.Status != c.status || !strings.Contains(e.Message, c.says) || e.Message == "" {
			t.Errorf("%s: status %d %q, expected status %d mentioning %q", c.name, e.Status, e.Message, c.status, c.says)
		}
	}
	// A non-finite bar is refused; the stream goes on unchanged.
	s, err := NewStream("SMA", [][]float64{close}, map[string]float64{"timeperiod": 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(math.NaN()); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Update(NaN): %v", err)
	}
	if _, err := s.Update(1, 2); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Update with two values for SMA: %v", err)
	}
	if out, err := s.Update(11); err != nil || out[0] != 10 {
		t.Errorf("Update(11) after the refusals = %v, %v; expected 10 (9, 10, 11)", out, err)
	}
	s.Close()
	s.Close()
	if _, err := s.Update(12); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Update after Close: %v", err)
	}
	if _, err := s.Save(); !errors.Is(err, ErrClosed) {
		t.Errorf("Save after Close: %v", err)
	}
}

// Two goroutines update one SMA stream: every update must be applied once,
// as in some serial order. With a history of zeros and ticks of 1.0, the
// k-th update applied gives exactly k/period, so the outputs seen by both
// goroutines together must be 1/period .. n/period, each once.
func TestStreamSharedByGoroutinesGivesASerialOrder(t *testing.T) {
	const period, perGoroutine = 2000, 1000
	s, err := NewStream("SMA", [][]float64{make([]float64, period)}, map[string]float64{"timeperiod": period})
	if err != nil {
		t.Fatal(err)
	}
	seen := make([][]int, 2)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				out, err := s.Update(1)
				if err != nil {
					t.Error(err)
					return
				}
				seen[g] = append(seen[g], int(math.Round(out[0]*period)))
			}
		}(g)
	}
	wg.Wait()
	all := append(seen[0], seen[1]...)
	sort.Ints(all)
	for i, k := range all {
		if k != i+1 {
			t.Fatalf("update counts seen %v..., expected each of 1..%d once", all[:i+1], 2*perGoroutine)
		}
	}
	// Close racing with updates: the updates finish or fail with ErrClosed.
	var racing sync.WaitGroup
	for g := 0; g < 4; g++ {
		racing.Add(1)
		go func() {
			defer racing.Done()
			for {
				if _, err := s.Update(1); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("update racing Close: %v", err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	s.Close()
	racing.Wait()
}

func ringName(t *testing.T) string {
	return fmt.Sprintf("pyrt-go-%s-%d", strings.ToLower(t.Name()), os.Getpid())
}

// A ring created and filled by a Python process, read here in order.
func TestRingFromPythonReadInOrder(t *testing.T) {
	const count = 100000
	name := ringName(t)
	producer := peerCommand(t, "ring-produce", name, fmt.Sprint(count), "4096")
	stdout, err := producer.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := producer.Start(); err != nil {
		t.Fatal(err)
	}
	defer UnlinkRing(name)
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("the Python producer did not start: %q", lines.Text())
	}
	ring, err := OpenRing(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	got := 0
	deadline := time.Now().Add(60 * time.Second)
	for got < count {
		batch, err := ring.PopBatch(4096)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range batch {
			want := seqRecord(got)
			if r != want {
				t.Fatalf("record %d is %+v, expected %+v", got, r, want)
			}
			got++
		}
		if len(batch) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d records arrived", got, count)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	if err := producer.Wait(); err != nil {
		t.Fatalf("producer: %v", err)
	}
	if extra, _ := ring.PopBatch(10); len(extra) != 0 {
		t.Fatalf("%d records after the last one", len(extra))
	}
}

// As tests/ipc_peer.py's seq_records.
func seqRecord(seq int) Record {
	return Record{SymbolID: uint32(seq % 1000), Price: float64(seq) * 0.5, Volume: float64(seq%7 + 1), TimestampUS: uint64(seq)}
}

// A Go producer into a Python consumer.
func TestGoProducerIntoPythonConsumer(t *testing.T) {
	const count = 100000
	name := ringName(t)
	ring, err := CreateRing(name, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer UnlinkRing(name)
	defer ring.Close()
	consumer := peerCommand(t, "ring-consume", name, fmt.Sprint(count))
	consumer.Stderr = nil
	var output strings.Builder
	consumer.Stdout, consumer.Stderr = &output, &output
	if err := consumer.Start(); err != nil {
		t.Fatal(err)
	}
	next := 0
	batch := make([]Record, 512)
	deadline := time.Now().Add(60 * time.Second)
	for next < count {
		n := min(len(batch), count-next)
		for i := 0; i < n; i++ {
			batch[i] = seqRecord(next + i)
		}
		pushed, err := ring.PushBatch(batch[:n])
		if err != nil {
			t.Fatal(err)
		}
		next += pushed
		if pushed == 0 {
			if time.Now().After(deadline) {
				inRing, _ := ring.Len()
				t.Fatalf("the consumer stopped after %d records", next-inRing)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	if err := consumer.Wait(); err != nil || !strings.Contains(output.String(), fmt.Sprintf("ok %d", count)) {
		t.Fatalf("Python consumer: %v\n%s", err, output.String())
	}
}

func TestRingCloseIsSafeAndFinal(t *testing.T) {
	name := ringName(t)
	ring, err := CreateRing(name, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer UnlinkRing(name)
	if ok, err := ring.Push(seqRecord(1)); !ok || err != nil {
		t.Fatalf("Push: %v %v", ok, err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() { defer wg.Done(); ring.Close() }()
	}
	wg.Wait()
	if _, err := ring.PopBatch(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("PopBatch after Close: %v", err)
	}
	if _, err := ring.Push(seqRecord(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close: %v", err)
	}
	// The record stays in the ring for the next handle.
	again, err := OpenRing(name)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, _ := again.PopBatch(4); len(got) != 1 || got[0] != seqRecord(1) {
		t.Fatalf("reopened ring holds %+v", got)
	}
	if _, err := CreateRing("bad\x00name", 64); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NUL in a ring name: %v", err)
	}
}
