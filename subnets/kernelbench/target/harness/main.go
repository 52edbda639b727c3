// Command harness is the validator's side of the kernel league's target: it reads
// requests on standard input, runs kernel.Forward on each and writes the output on
// standard output, until standard input ends. It measures nothing and prints no score:
// the validator times each request from outside the sandbox and checks the output
// against its own reference.
//
// A request is the magic "KBq1", then H, L and D as little-endian uint32, γ as a
// little-endian float32, then q, k and v (H·L·D little-endian float32 each). The answer
// is the magic "KBo1" and o (H·L·D little-endian float32). The harness is outside the
// directory a submission may change.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/tessera-net/tessera/subnets/kernelbench/target/kernel"
)

// MaxValues bounds H·L·D of one request.
const MaxValues = 1 << 28

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	for {
		if err := serve(in, out); err == io.EOF {
			return
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "harness:", err)
			os.Exit(2)
		}
	}
}

func serve(in *bufio.Reader, out *bufio.Writer) error {
	var hdr [20]byte
	if _, err := io.ReadFull(in, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return fmt.Errorf("short request header")
		}
		return err
	}
	if string(hdr[:4]) != "KBq1" {
		return fmt.Errorf("bad request magic %q", hdr[:4])
	}
	H := int(binary.LittleEndian.Uint32(hdr[4:]))
	L := int(binary.LittleEndian.Uint32(hdr[8:]))
	D := int(binary.LittleEndian.Uint32(hdr[12:]))
	gamma := math.Float32frombits(binary.LittleEndian.Uint32(hdr[16:]))
	if H <= 0 || L <= 0 || D <= 0 || H*L*D > MaxValues {
		return fmt.Errorf("bad shape %d×%d×%d", H, L, D)
	}
	n := H * L * D
	buf := make([]byte, 4*n)
	read := func() ([]float32, error) {
		if _, err := io.ReadFull(in, buf); err != nil {
			return nil, err
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		return x, nil
	}
	q, err := read()
	if err != nil {
		return err
	}
	k, err := read()
	if err != nil {
		return err
	}
	v, err := read()
	if err != nil {
		return err
	}
	o := make([]float32, n)
	kernel.Forward(q, k, v, o, H, L, D, gamma)
	for i, x := range o {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	if _, err := out.WriteString("KBo1"); err != nil {
		return err
	}
	if _, err := out.Write(buf); err != nil {
		return err
	}
	return out.Flush()
}
