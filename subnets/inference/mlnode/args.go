package mlnode

import "strings"

// MergeArgs merges an epoch's model args over local ones, as Gonka's MergeModelArgs
// does: both are lists of "--key [value]" options (a value is the next item when it
// does not start with "--"; "--key=value" is one item). Every option of epoch comes
// first, in its order, with its value; then each local option whose key epoch does not
// have, in local order. Items before the first option are kept from epoch, else from
// local. Neither input is modified.
func MergeArgs(epoch, local []string) []string {
	eo, ehead := splitArgs(epoch)
	lo, lhead := splitArgs(local)
	out := []string{}
	if len(ehead) > 0 {
		out = append(out, ehead...)
	} else {
		out = append(out, lhead...)
	}
	have := map[string]bool{}
	for _, o := range eo {
		have[o.key] = true
		out = append(out, o.items...)
	}
	for _, o := range lo {
		if !have[o.key] {
			out = append(out, o.items...)
		}
	}
	return out
}

// option is one "--key [value]" of an argument list.
type option struct {
	key   string
	items []string
}

// splitArgs splits args into its options and the items before the first.
func splitArgs(args []string) (opts []option, head []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			if len(opts) == 0 {
				head = append(head, a)
			} else {
				o := &opts[len(opts)-1]
				o.items = append(o.items, a) // a second value: kept with its option
			}
			continue
		}
		key, _, _ := strings.Cut(a, "=")
		o := option{key: key, items: []string{a}}
		if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			o.items = append(o.items, args[i+1])
			i++
		}
		opts = append(opts, o)
	}
	return opts, head
}

// argValue is the value of the last --key in args ("--key v" or "--key=v"), and
// whether it is there.
func argValue(args []string, key string) (string, bool) {
	v, ok := "", false
	for i, a := range args {
		switch {
		case a == key && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--"):
			v, ok = args[i+1], true
		case a == key:
			v, ok = "", true
		case strings.HasPrefix(a, key+"="):
			v, ok = a[len(key)+1:], true
		}
	}
	return v, ok
}
