package tokenizer

import (
	"errors"
	"slices"
	"testing"
)

// Chat templates as they appear in GGUF tokenizer.chat_template (Jinja
// source; "\n" inside a Jinja string literal is the two characters \ n).
const (
	tmplLlama2 = `{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}`
	tmplZephyr = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
	tmplChatML = `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`
	tmplQwen2  = `{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`
	tmplLlama3 = `{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}`
	tmplGemma = `{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}`
	tmplPhi3  = `{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}`
)

// chatTok: byte tokens, 256 "<s>" (BOS), 257 "</s>" (EOS).
func chatTok(t *testing.T, tmpl string, addBOS, withSpecials bool) *Tokenizer {
	t.Helper()
	v := tinyVocab(tt{"<s>", 0, TypeControl}, tt{"</s>", 0, TypeControl}, tt{"▁", 0, 1})
	if withSpecials {
		v.BOS, v.EOS = 256, 257
	}
	v.AddBOS = addBOS
	v.ChatTemplate = tmpl
	return mustNew(t, v)
}

var convo = []Message{
	{"system", "You are helpful."},
	{"user", "Hi "},
	{"assistant", " Hello! "},
	{"user", "Bye"},
}

func TestTemplateDetection(t *testing.T) {
	cases := []struct {
		tmpl      string
		specials  bool
		name      string
		defaulted bool
	}{
		{tmplLlama2, true, TemplateLlama2, false},
		{tmplZephyr, true, TemplateZephyr, false},
		{tmplChatML, true, TemplateChatML, false},
		{tmplQwen2, true, TemplateChatML, false},
		{tmplLlama3, true, TemplateLlama3, false},
		{tmplGemma, true, TemplateGemma, false},
		{tmplPhi3, true, TemplateLlama2, true}, // not zephyr: unrecognised
		{"", true, TemplateLlama2, true},
		{"", false, TemplatePlain, true},
		{"{{ weird }}", false, TemplatePlain, true},
		{"chatml", false, TemplateChatML, false},
		{"gemma", true, TemplateGemma, false},
		{"plain", true, TemplatePlain, false},
	}
	for _, c := range cases {
		tok := chatTok(t, c.tmpl, false, c.specials)
		if tok.TemplateName() != c.name || tok.TemplateDefaulted() != c.defaulted {
			t.Errorf("template %.40q: %s %v, want %s %v", c.tmpl, tok.TemplateName(), tok.TemplateDefaulted(), c.name, c.defaulted)
		}
	}
}

func TestApplyChat(t *testing.T) {
	user := []Message{{"user", "Hi"}}
	cases := []struct {
		tmpl   string
		addBOS bool
		msgs   []Message
		gen    bool
		want   string
	}{
		{tmplLlama2, true, convo, true,
			"[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]"},
		{tmplLlama2, false, convo, false,
			"<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]"},
		{tmplLlama2, true, user, true, "[INST] Hi [/INST]"},
		// strip() applies to the system block plus the message.
		{tmplLlama2, true, []Message{{"system", "S"}, {"user", " \n"}}, true, "[INST] <<SYS>>\nS\n<</SYS>> [/INST]"},
		{tmplLlama2, true, []Message{{"system", ""}, {"user", "x"}}, true, "[INST] <<SYS>>\n\n<</SYS>>\n\nx [/INST]"},
		{tmplLlama2, true, []Message{{"system", "S"}}, true, ""},
		// Other roles at assistant positions print nothing.
		{tmplLlama2, true, []Message{{"user", "a"}, {"tool", "t"}, {"user", "b"}}, true, "[INST] a [/INST]<s>[INST] b [/INST]"},
		{"", true, user, true, "[INST] Hi [/INST]"}, // default
		{tmplChatML, true, convo, true,
			"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi <|im_end|>\n<|im_start|>assistant\n Hello! <|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
		{tmplChatML, true, user, false, "<|im_start|>user\nHi<|im_end|>\n"},
		{tmplChatML, true, nil, true, "<|im_start|>assistant\n"},
		{tmplQwen2, true, user, true,
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
		{tmplQwen2, true, convo[:2], false, "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi <|im_end|>\n"},
		{tmplZephyr, true, convo, true,
			"<|system|>\nYou are helpful.</s>\n<|user|>\nHi </s>\n<|assistant|>\n Hello! </s>\n<|user|>\nBye</s>\n<|assistant|>\n"},
		{tmplZephyr, true, []Message{{"tool", "x"}, {"user", "Hi"}}, false, "<|user|>\nHi</s>\n"},
		{tmplZephyr, true, nil, true, ""}, // the generation prompt sits inside the loop
		{tmplLlama3, true, convo, true,
			"<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{tmplLlama3, false, user, false, "<s><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"},
		{tmplGemma, true, convo, true,
			"<start_of_turn>user\nYou are helpful.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"},
		{tmplGemma, false, user, false, "<s><start_of_turn>user\nHi<end_of_turn>\n"},
		{"plain", true, convo, true, "system: You are helpful.\nuser: Hi \nassistant:  Hello! \nuser: Bye\nassistant:"},
	}
	for _, c := range cases {
		tok := chatTok(t, c.tmpl, c.addBOS, true)
		got, err := tok.ApplyChat(c.msgs, c.gen)
		if err != nil || got != c.want {
			t.Errorf("%s addBOS=%v %v gen=%v:\n got %q (%v)\nwant %q", tok.TemplateName(), c.addBOS, c.msgs, c.gen, got, err, c.want)
		}
	}
	// Plain default (no BOS/EOS in the vocabulary).
	tok := chatTok(t, "", false, false)
	if got, _ := tok.ApplyChat(user, true); got != "user: Hi\nassistant:" {
		t.Errorf("plain default: %q", got)
	}
	// AddEOS trims a trailing EOS text.
	v := tinyVocab(tt{"<s>", 0, TypeControl}, tt{"</s>", 0, TypeControl})
	v.BOS, v.EOS, v.AddBOS, v.AddEOS, v.ChatTemplate = 256, 257, true, true, tmplLlama2
	tok = mustNew(t, v)
	if got, _ := tok.ApplyChat(convo[:3], false); got != "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST] Hello! " {
		t.Errorf("add_eos trim: %q", got)
	}
}

func TestApplyChatRoles(t *testing.T) {
	bad := [][]Message{
		{{"assistant", "a"}},
		{{"user", "a"}, {"user", "b"}},
		{{"system", "s"}, {"assistant", "a"}},
		{{"user", "a"}, {"assistant", "b"}, {"assistant", "c"}},
		{{"user", "a"}, {"system", "s"}, {"system", "t"}},
	}
	for _, tmpl := range []string{tmplLlama2, tmplGemma} {
		tok := chatTok(t, tmpl, true, true)
		for _, msgs := range bad {
			if _, err := tok.ApplyChat(msgs, true); !errors.Is(err, ErrChatRoles) {
				t.Errorf("%s %v: err %v", tok.TemplateName(), msgs, err)
			}
		}
	}
	// chatml, zephyr, llama-3 and plain take any order.
	for _, tmpl := range []string{tmplChatML, tmplZephyr, tmplLlama3, "plain"} {
		tok := chatTok(t, tmpl, true, true)
		for _, msgs := range bad {
			if _, err := tok.ApplyChat(msgs, true); err != nil {
				t.Errorf("%s: %v", tok.TemplateName(), err)
			}
		}
	}
}

func TestPyStrip(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		" \t\n\v\f\r\x1c\x1d\x1e\x1f": "",
		"\u00a0\u3000x\u2028\u0085":   "x",
		"\u200bx\u200b":               "\u200bx\u200b", // zero-width space is not whitespace
		"\xff x \xff":                 "\xff x \xff",
		" a b ":                       "a b",
	} {
		if got := pyStrip(in); got != want {
			t.Errorf("pyStrip(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChatLlama2Tokens: the llama-2 chat prompt through EncodeSpecial on the
// real vocabulary.
func TestChatLlama2Tokens(t *testing.T) {
	v := llama2(t)
	v.ChatTemplate = tmplLlama2
	tok := mustNew(t, v)
	s, err := tok.ApplyChat([]Message{{"user", "Hi"}, {"assistant", "Yo"}, {"user", "Bye"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	got := tok.EncodeSpecial(s, tok.AddBOS())
	// <s> ▁[ INST ] ▁Hi ▁[ / INST ] ▁Y o ▁ </s> <s> ▁[ INST ] ▁By e ▁[ / INST ]
	t.Logf("%q -> %v", s, got)
	head := []int32{1, 518, 25580, 29962, 6324, 518, 29914, 25580, 29962}
	if !slices.Equal(got[:len(head)], head) {
		t.Errorf("prompt tokens %v, want prefix %v", got, head)
	}
	if n := slices.Index(got, 2); n < 0 || got[n+1] != 1 || got[n+2] != 518 {
		t.Errorf("no </s><s>▁[ in %v", got)
	}
}
