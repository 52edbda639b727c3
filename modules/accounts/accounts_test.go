package accounts

import "testing"

func TestAmounts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1", UnitsPerToken, true},
		{"1.5", 1_500_000_000, true},
		{"0.000000001", 1, true},
		{".5", 500_000_000, true},
		{"18446744073", 18_446_744_073_000_000_000, true},
		{"18446744074", 0, false},
		{"1.0000000001", 0, false},
		{"", 0, false},
		{"abc", 0, false},
		{"-1", 0, false},
	} {
		got, err := ParseAmount(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseAmount(%q) = %d, %v", c.in, got, err)
		}
		if c.ok {
			if back, _ := ParseAmount(FormatAmount(got)); back != got {
				t.Errorf("round trip of %q gave %d", c.in, back)
			}
		}
	}
}
