package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Template names reported by TemplateName and accepted as Vocab.ChatTemplate.
const (
	TemplateLlama2 = "llama-2"
	TemplateChatML = "chatml"
	TemplateZephyr = "zephyr"
	TemplateLlama3 = "llama-3"
	TemplateGemma  = "gemma"
	TemplatePlain  = "plain"
)

// Message is one chat message. Role is normally "system", "user" or
// "assistant"; templates that print the role print it verbatim.
type Message struct {
	Role    string
	Content string
}

type chatTemplate struct {
	name      string
	defaulted bool
	// chatml only: the default system message some templates (Qwen) print
	// when the conversation does not start with one.
	defaultSystem    string
	hasDefaultSystem bool
}

// qwenSystem finds a literal default system message in a ChatML template:
// '<|im_start|>system\n<literal text><|im_end|>' inside a Jinja string.
var qwenSystem = regexp.MustCompile(`<\|im_start\|>system\\n([^'"{}\\]+)<\|im_end\|>`)

// detectTemplate recognises src by name or by content markers, in this order:
//
//	src is exactly one of the Template* names -> that template
//	contains "<|im_start|>"                    -> chatml
//	contains "[INST]"                          -> llama-2
//	contains "<|user|>" and "<|assistant|>"
//	  and not "<|end|>"                         -> zephyr
//	contains "<|start_header_id|>"             -> llama-3
//	contains "<start_of_turn>"                 -> gemma
//	otherwise (including "")                    -> llama-2 when the vocabulary
//	                                               has both BOS and EOS, else
//	                                               plain; defaulted
func detectTemplate(src string, hasBOSEOS bool) chatTemplate {
	switch src {
	case TemplateLlama2, TemplateChatML, TemplateZephyr, TemplateLlama3, TemplateGemma, TemplatePlain:
		return chatTemplate{name: src}
	}
	has := func(s string) bool { return strings.Contains(src, s) }
	switch {
	case has("<|im_start|>"):
		c := chatTemplate{name: TemplateChatML}
		if m := qwenSystem.FindStringSubmatch(src); m != nil {
			c.defaultSystem, c.hasDefaultSystem = m[1], true
		}
		return c
	case has("[INST]"):
		return chatTemplate{name: TemplateLlama2}
	case has("<|user|>") && has("<|assistant|>") && !has("<|end|>"):
		return chatTemplate{name: TemplateZephyr}
	case has("<|start_header_id|>"):
		return chatTemplate{name: TemplateLlama3}
	case has("<start_of_turn>"):
		return chatTemplate{name: TemplateGemma}
	}
	if hasBOSEOS {
		return chatTemplate{name: TemplateLlama2, defaulted: true}
	}
	return chatTemplate{name: TemplatePlain, defaulted: true}
}

// TemplateName is the chat template ApplyChat renders: one of the Template*
// constants.
func (t *Tokenizer) TemplateName() string { return t.chat.name }

// TemplateDefaulted reports that Vocab.ChatTemplate was empty or not
// recognised, so TemplateName is the default (llama-2 or plain).
func (t *Tokenizer) TemplateDefaulted() bool { return t.chat.defaulted }

// ApplyChat renders msgs with the recognised chat template (see doc.go for
// exactly what each renders), as Hugging Face's Jinja rendering of that
// template does, with bos_token / eos_token being the texts of the BOS / EOS
// tokens ("" when absent). Then, as llama.cpp does before tokenizing, a
// leading BOS text is removed when AddBOS() and a trailing EOS text when
// AddEOS(), so the result is meant for EncodeSpecial(result, t.AddBOS()).
// It fails (ErrChatRoles) only where the template itself raises: llama-2 and
// gemma need user and assistant to alternate, user first.
func (t *Tokenizer) ApplyChat(msgs []Message, addGenerationPrompt bool) (string, error) {
	bos, eos := t.TokenText(t.bos), t.TokenText(t.eos)
	var b strings.Builder
	switch t.chat.name {
	case TemplateLlama2:
		if err := renderLlama2(&b, msgs, bos, eos); err != nil {
			return "", err
		}
	case TemplateChatML:
		for i, m := range msgs {
			if i == 0 && t.chat.hasDefaultSystem && m.Role != "system" {
				b.WriteString("<|im_start|>system\n" + t.chat.defaultSystem + "<|im_end|>\n")
			}
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		}
		if addGenerationPrompt {
			b.WriteString("<|im_start|>assistant\n")
		}
	case TemplateZephyr:
		for _, m := range msgs {
			switch m.Role {
			case "user", "system", "assistant":
				b.WriteString("<|" + m.Role + "|>\n" + m.Content + eos + "\n")
			}
		}
		if addGenerationPrompt && len(msgs) > 0 {
			b.WriteString("<|assistant|>\n")
		}
	case TemplateLlama3:
		for i, m := range msgs {
			if i == 0 {
				b.WriteString(bos)
			}
			b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + pyStrip(m.Content) + "<|eot_id|>")
		}
		if addGenerationPrompt {
			b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
		}
	case TemplateGemma:
		b.WriteString(bos)
		prefix, loop := "", msgs
		if len(msgs) > 0 && msgs[0].Role == "system" {
			prefix, loop = msgs[0].Content+"\n\n", msgs[1:]
		}
		for i, m := range loop {
			if (m.Role == "user") != (i%2 == 0) {
				return "", rolesErr(i, m.Role)
			}
			role := m.Role
			if role == "assistant" {
				role = "model"
			}
			b.WriteString("<start_of_turn>" + role + "\n")
			if i == 0 {
				b.WriteString(prefix)
			}
			b.WriteString(pyStrip(m.Content) + "<end_of_turn>\n")
		}
		if addGenerationPrompt {
			b.WriteString("<start_of_turn>model\n")
		}
	default: // TemplatePlain
		for _, m := range msgs {
			b.WriteString(m.Role + ": " + m.Content + "\n")
		}
		if addGenerationPrompt {
			b.WriteString("assistant:")
		}
	}
	out := b.String()
	if t.addBOS && bos != "" {
		out = strings.TrimPrefix(out, bos)
	}
	if t.addEOS && eos != "" {
		out = strings.TrimSuffix(out, eos)
	}
	return out, nil
}

func rolesErr(i int, role string) error {
	return fmt.Errorf("%w (message %d after any system message has role %q)", ErrChatRoles, i, role)
}

// renderLlama2 is the Llama-2-chat template (meta-llama/Llama-2-*-chat-hf).
func renderLlama2(b *strings.Builder, msgs []Message, bos, eos string) error {
	sys, hasSys, loop := "", false, msgs
	if len(msgs) > 0 && msgs[0].Role == "system" {
		sys, hasSys, loop = msgs[0].Content, true, msgs[1:]
	}
	for i, m := range loop {
		if (m.Role == "user") != (i%2 == 0) {
			return rolesErr(i, m.Role)
		}
		content := m.Content
		if i == 0 && hasSys {
			content = "<<SYS>>\n" + sys + "\n<</SYS>>\n\n" + m.Content
		}
		switch m.Role {
		case "user":
			b.WriteString(bos + "[INST] " + pyStrip(content) + " [/INST]")
		case "assistant":
			b.WriteString(" " + pyStrip(content) + " " + eos)
		}
	}
	return nil
}

// pyIsSpace is Python's str.isspace for one character (what Jinja's trim
// filter and str.strip() remove): general category Zs or bidirectional class
// WS, B or S.
func pyIsSpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r >= 0x1C && r <= 0x20, r == 0x85, r == 0xA0, r == 0x1680,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// pyStrip is Python's str.strip() with no argument. Bytes that are not valid
// UTF-8 are not whitespace.
func pyStrip(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !pyIsSpace(r) || (r == utf8.RuneError && n == 1) {
			break
		}
		s = s[n:]
	}
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !pyIsSpace(r) || (r == utf8.RuneError && n == 1) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}
