package textgen

import (
	"errors"
	"log/slog"
	"slices"
)

// ErrNoReferenceModel is the error of asking a validator for free prompts when its
// reference is not a language model (nil, or the built-in test backend): there would
// be nothing but canned filler to judge miners' free text by.
var ErrNoReferenceModel = errors.New("textgen: free prompts need a reference model (an http backend); the built-in test backend's free text is filler")

// JudgesFreeText reports whether b can be a validator's reference for free prompts,
// that is whether its free-text answers come from a language model. It is false for
// nil and for a backend that reports canned free text (Builtin's CannedFreeText), true
// for any other backend (HTTPBackend).
func JudgesFreeText(b Backend) bool {
	if b == nil {
		return false
	}
	c, ok := b.(interface{ CannedFreeText() bool })
	return !ok || !c.CannedFreeText()
}

// DrawKinds returns the task kinds a validator with the given reference draws, from
// the kinds asked for (nil or empty: all of Kinds). With a reference that judges free
// text (JudgesFreeText) they are the kinds asked for; without one, Free is left out of
// the default kinds, and asking for it explicitly is ErrNoReferenceModel. freeOff
// reports that Free was left out. Unknown kinds are not checked here (NewGenerator
// does).
func DrawKinds(kinds []Kind, reference Backend) (draw []Kind, freeOff bool, err error) {
	if JudgesFreeText(reference) {
		return kinds, false, nil
	}
	if slices.Contains(kinds, Free) {
		return nil, false, ErrNoReferenceModel
	}
	if len(kinds) > 0 {
		return kinds, false, nil
	}
	return slices.DeleteFunc(slices.Clone(Kinds), func(k Kind) bool { return k == Free }), true, nil
}

// noteReference logs, when log is set, whether the validator asks free prompts: off
// when DrawKinds left them out for want of a reference model, on when it draws them.
func noteReference(log *slog.Logger, freeOff bool, kinds []Kind) {
	switch {
	case log == nil:
	case freeOff:
		log.Warn("free prompts are off: no reference model is configured (the built-in test backend's free text is filler); asking checkable tasks only",
			"kinds", kinds)
	case len(kinds) == 0 || slices.Contains(kinds, Free):
		log.Info("free prompts are on: scored by similarity to the reference model's answers", "kinds", kinds)
	}
}
