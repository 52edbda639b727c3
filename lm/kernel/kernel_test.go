package kernel

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// refDot is the definition, written as plainly as possible: one int64
// multiply-add per element.
func refDot(q []int8, s []int16, x []int8) int64 {
	var acc int64
	for k := range q {
		acc += int64(s[k/BlockSize]) * int64(q[k]) * int64(x[k])
	}
	return acc
}

// fill modes
const (
	modeRandom  = iota // q in [-127,127], s in [0,255], x in [-128,127]
	modeMaxPos         // q=127, x=127, s=255: the largest positive sum
	modeMaxNeg         // q=127, x=-128, s=255: the largest negative sum
	modeMaxPos2        // q=-127, x=-128, s=255
	modeSigns          // q, x random in {-127, 127} (x also -128), s=255
	modeSparse         // mostly zeros, some extremes, some zero scales
	numModes
)

var modeNames = [...]string{"random", "maxpos", "maxneg", "maxpos2", "signs", "sparse"}

func fillQ(rng *rand.Rand, q []int8, mode int) {
	for i := range q {
		switch mode {
		case modeRandom:
			q[i] = int8(rng.IntN(255) - 127)
		case modeMaxPos, modeMaxNeg:
			q[i] = 127
		case modeMaxPos2:
			q[i] = -127
		case modeSigns:
			q[i] = int8(127 - 254*rng.IntN(2))
		case modeSparse:
			if rng.IntN(8) == 0 {
				q[i] = int8(127 - 254*rng.IntN(2))
			} else {
				q[i] = 0
			}
		}
	}
}

func fillX(rng *rand.Rand, x []int8, mode int) {
	for i := range x {
		switch mode {
		case modeRandom:
			x[i] = int8(rng.IntN(256) - 128)
		case modeMaxPos:
			x[i] = 127
		case modeMaxNeg, modeMaxPos2:
			x[i] = -128
		case modeSigns:
			x[i] = [...]int8{-128, -127, 127}[rng.IntN(3)]
		case modeSparse:
			if rng.IntN(4) == 0 {
				x[i] = int8(rng.IntN(256) - 128)
			} else {
				x[i] = 0
			}
		}
	}
}

func fillS(rng *rand.Rand, s []int16, mode int) {
	for i := range s {
		switch mode {
		case modeRandom:
			s[i] = int16(rng.IntN(256))
		case modeSparse:
			s[i] = int16([...]int{0, 1, 255}[rng.IntN(3)])
		default:
			s[i] = 255
		}
	}
}

// randMatrix returns a valid rows x cols matrix (padding zero).
func randMatrix(rng *rand.Rand, rows, cols, mode int) *Matrix {
	m := NewMatrix(rows, cols)
	for j := 0; j < rows; j++ {
		q, s := m.Row(j)
		fillQ(rng, q[:cols], mode)
		fillS(rng, s, mode)
	}
	return m
}

func withAsm(t testing.TB, on bool) {
	prev := SetAssembly(on)
	t.Cleanup(func() { SetAssembly(prev) })
}

func asmModes() []bool {
	if haveAsm {
		return []bool{false, true}
	}
	return []bool{false}
}

func TestDotAllLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, on := range asmModes() {
		withAsm(t, on)
		for mode := 0; mode < numModes; mode++ {
			for n := BlockSize; n <= 16384; n += BlockSize {
				q := make([]int8, n)
				x := make([]int8, n)
				s := make([]int16, n/BlockSize)
				fillQ(rng, q, mode)
				fillX(rng, x, mode)
				fillS(rng, s, mode)
				want := refDot(q, s, x)
				if got := dotGeneric(q, s, x); got != want {
					t.Fatalf("dotGeneric %s n=%d: %d, want %d", modeNames[mode], n, got, want)
				}
				if got := Dot(q, s, x); got != want {
					t.Fatalf("Dot asm=%v %s n=%d: %d, want %d", on, modeNames[mode], n, got, want)
				}
			}
		}
	}
}

func TestDotExtremeValue(t *testing.T) {
	// 512 blocks of the worst case: 512*32*255*127*127 overflows int32 many
	// times over; the flush every 64 blocks keeps the lanes exact.
	for _, on := range asmModes() {
		withAsm(t, on)
		for _, c := range []struct {
			q, x int8
			want int64
		}{
			{127, 127, 16384 * 255 * 127 * 127},
			{127, -128, -16384 * 255 * 127 * 128},
			{-127, -128, 16384 * 255 * 127 * 128},
			{-127, 127, -16384 * 255 * 127 * 127},
		} {
			q := make([]int8, 16384)
			x := make([]int8, 16384)
			s := make([]int16, 512)
			for i := range q {
				q[i], x[i] = c.q, c.x
			}
			for i := range s {
				s[i] = 255
			}
			if got := Dot(q, s, x); got != c.want {
				t.Errorf("asm=%v q=%d x=%d: %d, want %d", on, c.q, c.x, got, c.want)
			}
		}
	}
}

func TestDotEmptyAndPanics(t *testing.T) {
	if got := Dot(nil, nil, nil); got != 0 {
		t.Errorf("Dot(nil) = %d", got)
	}
	for _, c := range []struct {
		name string
		q, x int
		s    int
	}{
		{"short q", 31, 32, 1},
		{"short x", 32, 31, 1},
		{"long x", 32, 64, 1},
		{"no scales", 32, 32, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			Dot(make([]int8, c.q), make([]int16, c.s), make([]int8, c.x))
		})
	}
}

type shape struct{ rows, cols int }

var testShapes = []shape{
	{1, 1}, {1, 32}, {3, 33}, {4, 64}, {5, 100}, {7, 2016}, {16, 32}, {17, 4064},
	{33, 5632}, {67, 2048}, {64, 16384}, {129, 96}, {200, 8}, {2, 16384}, {513, 160},
	{0, 64}, {9, 0},
}

func TestMatVecMatMulEqual(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pools := []*Pool{nil}
	for th := 1; th <= 4; th++ {
		p := NewPool(th)
		defer p.Close()
		pools = append(pools, p)
	}
	modes := []int{modeRandom, modeMaxPos, modeMaxNeg, modeSigns, modeSparse}
	for _, sh := range testShapes {
		for _, mode := range modes {
			m := randMatrix(rng, sh.rows, sh.cols, mode)
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			for n := 1; n <= 5; n++ {
				xs := make([]int8, n*m.Stride)
				fillX(rng, xs, mode)
				want := make([]int64, n*m.Rows)
				for i := 0; i < n; i++ {
					for j := 0; j < m.Rows; j++ {
						q, s := m.Row(j)
						want[i*m.Rows+j] = refDot(q, s, xs[i*m.Stride:(i+1)*m.Stride])
					}
				}
				for _, on := range asmModes() {
					SetAssembly(on)
					for pi, p := range pools {
						name := fmt.Sprintf("%dx%d %s n=%d asm=%v pool=%d", sh.rows, sh.cols, modeNames[mode], n, on, pi)
						got := make([]int64, n*m.Rows)
						for i := range got {
							got[i] = 0x5555 // must be overwritten
						}
						if p == nil {
							MatMul(got, m, xs, n)
						} else {
							p.MatMul(got, m, xs, n)
						}
						compare(t, name+" MatMul", got, want)
						for i := 0; i < n; i++ {
							g := got[i*m.Rows : (i+1)*m.Rows]
							clear(g)
							x := xs[i*m.Stride : (i+1)*m.Stride]
							if p == nil {
								MatVec(g, m, x)
							} else {
								p.MatVec(g, m, x)
							}
						}
						compare(t, name+" MatVec", got, want)
					}
				}
			}
		}
	}
	SetAssembly(haveAsm)
}

// TestParallelLarge uses shapes big enough that the pool really splits.
func TestParallelLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range []shape{{2048, 2048}, {1000, 5632}, {300, 16384}, {5632, 256}} {
		for _, mode := range []int{modeRandom, modeMaxNeg} {
			m := randMatrix(rng, sh.rows, sh.cols, mode)
			for _, n := range []int{1, 2, 5} {
				xs := make([]int8, n*m.Stride)
				fillX(rng, xs, mode)
				want := make([]int64, n*m.Rows)
				SetAssembly(false)
				MatMul(want, m, xs, n)
				for _, on := range asmModes() {
					SetAssembly(on)
					for th := 1; th <= 4; th++ {
						p := NewPool(th)
						got := make([]int64, n*m.Rows)
						p.MatMul(got, m, xs, n)
						compare(t, fmt.Sprintf("%dx%d %s n=%d asm=%v threads=%d", sh.rows, sh.cols, modeNames[mode], n, on, th), got, want)
						p.Close()
					}
				}
			}
		}
	}
	SetAssembly(haveAsm)
	// spot-check the reference itself
	m := randMatrix(rng, 8, 5632, modeRandom)
	x := make([]int8, m.Stride)
	fillX(rng, x, modeRandom)
	got := make([]int64, 8)
	SetAssembly(false)
	MatVec(got, m, x)
	SetAssembly(haveAsm)
	for j := range got {
		q, s := m.Row(j)
		if w := refDot(q, s, x); got[j] != w {
			t.Fatalf("row %d: %d want %d", j, got[j], w)
		}
	}
}

func compare(t *testing.T, name string, got, want []int64) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: [%d] = %d, want %d", name, i, got[i], want[i])
		}
	}
}

func TestPoolConcurrentAndClose(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m := randMatrix(rng, 1024, 1024, modeRandom)
	x := make([]int8, m.Stride)
	fillX(rng, x, modeRandom)
	want := make([]int64, m.Rows)
	MatVec(want, m, x)
	p := NewPool(3)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			got := make([]int64, m.Rows)
			for it := 0; it < 20; it++ {
				clear(got)
				p.MatVec(got, m, x)
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("concurrent: [%d] = %d, want %d", i, got[i], want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if p.Threads() != 3 {
		t.Errorf("Threads = %d", p.Threads())
	}
	p.Close()
	p.Close()
	if p.Threads() != 1 {
		t.Errorf("Threads after Close = %d", p.Threads())
	}
	got := make([]int64, m.Rows)
	p.MatVec(got, m, x)
	compare(t, "after Close", got, want)
	var np *Pool
	clear(got)
	np.MatVec(got, m, x)
	compare(t, "nil pool", got, want)
	np.Close()
	if NewPool(0).Threads() != 1 || NewPool(-5).Threads() != 1 || NewPool(1000).Threads() != maxThreads {
		t.Error("thread clamping")
	}
}

func TestNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	m := randMatrix(rng, 1024, 1024, modeRandom)
	xs := make([]int8, 4*m.Stride)
	fillX(rng, xs, modeRandom)
	dst := make([]int64, 4*m.Rows)
	p := NewPool(2)
	defer p.Close()
	for _, on := range asmModes() {
		withAsm(t, on)
		for name, f := range map[string]func(){
			"MatVec":      func() { MatVec(dst[:m.Rows], m, xs[:m.Stride]) },
			"MatMul":      func() { MatMul(dst, m, xs, 4) },
			"Pool.MatVec": func() { p.MatVec(dst[:m.Rows], m, xs[:m.Stride]) },
			"Pool.MatMul": func() { p.MatMul(dst, m, xs, 4) },
			"Dot": func() {
				q, s := m.Row(0)
				dst[0] = Dot(q, s, xs[:m.Stride])
			},
		} {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("%s asm=%v: %v allocs per run", name, on, a)
			}
		}
	}
}

func TestShapePanics(t *testing.T) {
	m := NewMatrix(4, 40) // stride 64
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"MatVec short x", func() { MatVec(make([]int64, 4), m, make([]int8, 40)) }},
		{"MatVec short dst", func() { MatVec(make([]int64, 3), m, make([]int8, 64)) }},
		{"MatMul n", func() { MatMul(make([]int64, 8), m, make([]int8, 64), 2) }},
		{"MatMul negative n", func() { MatMul(nil, m, nil, -1) }},
		{"nil matrix", func() { MatVec(nil, nil, nil) }},
		{"short Q", func() {
			MatVec(make([]int64, 4), &Matrix{Rows: 4, Cols: 40, Stride: 64, Q: m.Q[:100], S: m.S}, make([]int8, 64))
		}},
		{"Pool", func() { (&Pool{}).MatVec(nil, m, nil) }},
		{"Row", func() { m.Row(4) }},
		{"NewMatrix", func() { NewMatrix(-1, 3) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
	// n == 0 is fine.
	MatMul(nil, m, nil, 0)
}

func TestValidate(t *testing.T) {
	good := func() *Matrix {
		m := NewMatrix(2, 40)
		for j := 0; j < 2; j++ {
			q, s := m.Row(j)
			for k := 0; k < 40; k++ {
				q[k] = int8(k*7 - 127)
			}
			s[0], s[1] = 255, 0
		}
		return m
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good: %v", err)
	}
	if err := NewMatrix(0, 0).Validate(); err != nil {
		t.Fatalf("empty: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(m *Matrix) *Matrix
		want error
	}{
		{"nil", func(*Matrix) *Matrix { return nil }, ErrShape},
		{"negative rows", func(m *Matrix) *Matrix { m.Rows = -1; return m }, ErrShape},
		{"stride", func(m *Matrix) *Matrix { m.Stride = 40; return m }, ErrShape},
		{"stride big", func(m *Matrix) *Matrix { m.Stride = 96; return m }, ErrShape},
		{"short Q", func(m *Matrix) *Matrix { m.Q = m.Q[:127]; return m }, ErrShape},
		{"short S", func(m *Matrix) *Matrix { m.S = m.S[:3]; return m }, ErrShape},
		{"huge", func(m *Matrix) *Matrix { m.Rows = math.MaxInt / 8; return m }, ErrShape},
		{"q -128", func(m *Matrix) *Matrix { m.Q[70] = -128; return m }, ErrRange},
		{"padding", func(m *Matrix) *Matrix { m.Q[64+45] = 1; return m }, ErrPadding},
		{"scale 256", func(m *Matrix) *Matrix { m.S[3] = 256; return m }, ErrRange},
		{"scale -1", func(m *Matrix) *Matrix { m.S[0] = -1; return m }, ErrRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.edit(good()).Validate()
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestSetAssembly(t *testing.T) {
	prev := SetAssembly(true)
	defer SetAssembly(prev)
	if Assembly() != haveAsm {
		t.Errorf("Assembly() = %v after SetAssembly(true), have %v", Assembly(), haveAsm)
	}
	if p := SetAssembly(false); p != haveAsm {
		t.Errorf("SetAssembly(false) returned %v", p)
	}
	if Assembly() || Impl() != "go" {
		t.Errorf("still on: %v %s", Assembly(), Impl())
	}
	t.Logf("assembly available: %v", haveAsm)
}

// TestEnvNoAsm runs this test binary again with TESSERA_LM_NOASM=1.
func TestEnvNoAsm(t *testing.T) {
	if os.Getenv("KERNEL_TEST_CHILD") == "1" {
		if Assembly() {
			fmt.Println("ASM-ON")
		} else {
			fmt.Println("ASM-OFF")
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		env  string
		want string
	}{
		{"1", "ASM-OFF"},
		{"0", map[bool]string{true: "ASM-ON", false: "ASM-OFF"}[haveAsm]},
	} {
		cmd := exec.Command(exe, "-test.run=^TestEnvNoAsm$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KERNEL_TEST_CHILD=1", "TESSERA_LM_NOASM="+c.env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if !contains(string(out), c.want) {
			t.Errorf("TESSERA_LM_NOASM=%s: child said %q, want %s", c.env, out, c.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func FuzzDot(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint8(1))
	f.Add(make([]byte, 200), uint8(3))
	ext := make([]byte, 65*70)
	for i := range ext {
		ext[i] = 0x80
	}
	f.Add(ext, uint8(70))
	f.Fuzz(func(t *testing.T, data []byte, nblocks uint8) {
		nb := int(nblocks)
		q := make([]int8, nb*BlockSize)
		x := make([]int8, nb*BlockSize)
		s := make([]int16, nb)
		at := func(i int) byte {
			if len(data) == 0 {
				return 0x81
			}
			return data[i%len(data)]
		}
		for i := range q {
			q[i] = max(int8(at(2*i)), -127)
			x[i] = int8(at(2*i + 1))
		}
		for b := range s {
			s[b] = int16(at(b*7 + 3))
		}
		want := refDot(q, s, x)
		if got := dotGeneric(q, s, x); got != want {
			t.Fatalf("dotGeneric %d, want %d", got, want)
		}
		for _, on := range asmModes() {
			SetAssembly(on)
			got := Dot(q, s, x)
			SetAssembly(haveAsm)
			if got != want {
				t.Fatalf("Dot asm=%v %d, want %d", on, got, want)
			}
		}
	})
}

func TestPoolCleanupWithoutClose(t *testing.T) {
	// Counted by their function, after earlier tests' unreachable pools are gone: their
	// cleanups run when the collector gets to them, so a count of all goroutines would
	// move under the test.
	settled := func() int {
		last, same := -1, 0
		for same < 5 {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if n := poolWorkers(); n == last {
				same++
			} else {
				last, same = n, 0
			}
		}
		return last
	}
	before := settled()
	func() {
		p := NewPool(4)
		m := NewMatrix(64, 8192)
		p.MatVec(make([]int64, 64), m, make([]int8, m.Stride))
		if n := poolWorkers(); n != before+3 {
			t.Fatalf("%d pool workers running, %d before a pool of 4", n, before)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for poolWorkers() > before {
		if time.Now().After(deadline) {
			t.Fatalf("workers of an unreachable pool still running: %d, %d before", poolWorkers(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// poolWorkers counts the goroutines running a Pool's worker loop.
func poolWorkers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "kernel.NewPool.func1(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestMatVecAllLengths runs the multi-row kernels over every row length from
// 32 to 16384 columns (every block count 1..512, so every position of the
// 64-block flush), random and worst-case values, batch 1 and 3.
func TestMatVecAllLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for stride := BlockSize; stride <= 16384; stride += BlockSize {
		mode := modeRandom
		if stride%(3*BlockSize) == 0 {
			mode = [...]int{modeMaxPos, modeMaxNeg, modeSigns}[stride/(3*BlockSize)%3]
		}
		m := randMatrix(rng, 9, stride-rng.IntN(BlockSize), mode)
		for _, n := range []int{1, 3} {
			xs := make([]int8, n*m.Stride)
			fillX(rng, xs, mode)
			want := make([]int64, n*m.Rows)
			for i := 0; i < n; i++ {
				for j := 0; j < m.Rows; j++ {
					q, s := m.Row(j)
					want[i*m.Rows+j] = refDot(q, s, xs[i*m.Stride:(i+1)*m.Stride])
				}
			}
			for _, on := range asmModes() {
				SetAssembly(on)
				got := make([]int64, n*m.Rows)
				MatMul(got, m, xs, n)
				compare(t, fmt.Sprintf("cols %d %s n=%d asm=%v", m.Cols, modeNames[mode], n, on), got, want)
			}
		}
	}
	SetAssembly(haveAsm)
}
