package pyrt

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The Python side of these tests: tests/bindings_peer.py of the repository,
// run by the interpreter in PYRT_PYTHON (make sets it to the project's
// virtualenv), else the repository's .venv.

func python(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PYRT_PYTHON"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../.venv/bin/python")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Python with pyrt: set PYRT_PYTHON (tried %s)", p)
	}
	return p
}

func peerScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../tests/bindings_peer.py")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func peerCommand(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(python(t), append([]string{peerScript(t)}, args...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

func runPeer(t *testing.T, args ...string) string {
	t.Helper()
	cmd := peerCommand(t, args...)
	cmd.Stderr = nil
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bindings_peer.py %v: %v\n%s", args, err, out)
	}
	return string(out)
}

type referenceRun struct {
	Params  map[string]float64 `json:"params"`
	Outputs []string           `json:"outputs"`
}

type referenceStream struct {
	State         string  `json:"state"`
	History       int     `json:"history"`
	Ticks         int     `json:"ticks"`
	Values        string  `json:"values"`
	TalibMismatch *string `json:"talib_mismatch"`
}

type referenceFunction struct {
	Name    string          `json:"name"`
	Inputs  []string        `json:"inputs"`
	Outputs []string        `json:"outputs"`
	Runs    []referenceRun  `json:"runs"`
	Stream  referenceStream `json:"stream"`
}

type referenceDoc struct {
	Walk      map[string]string   `json:"walk"`
	Functions []referenceFunction `json:"functions"`
	walk      map[string][]float64
}

func (d *referenceDoc) series(keys []string) [][]float64 {
	out := make([][]float64, len(keys))
	for i, k := range keys {
		out[i] = d.walk[k]
	}
	return out
}

var (
	referenceOnce sync.Once
	reference     *referenceDoc
	referenceErr  string
)

// loadReference runs the Python peer once per test binary.
func loadReference(t *testing.T) *referenceDoc {
	t.Helper()
	referenceOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pyrt-go-reference")
		if err != nil {
			referenceErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "reference.json")
		out, err := exec.Command(python(t), peerScript(t), "reference", path).CombinedOutput()
		if err != nil {
			referenceErr = string(out) + err.Error()
			return
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			referenceErr = err.Error()
			return
		}
		doc := &referenceDoc{}
		if err := json.Unmarshal(raw, doc); err != nil {
			referenceErr = err.Error()
			return
		}
		doc.walk = map[string][]float64{}
		for k, v := range doc.Walk {
			doc.walk[k] = decodeF64(v)
		}
		reference = doc
	})
	if reference == nil {
		t.Fatalf("reference values from Python: %s", referenceErr)
	}
	return reference
}

func decodeF64(s string) []float64 {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	out := make([]float64, len(raw)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out
}

func encodeF64(v []float64) string {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// sameBits: equal bit for bit (NaN payloads included).
func sameBits(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}
