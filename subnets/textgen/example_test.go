package textgen_test

import (
	"context"
	"fmt"

	"github.com/tessera-net/tessera/subnets/textgen"
)

// A validator draws a checkable task, a miner's backend answers it, and the checker
// scores the answer.
func Example() {
	gen, _ := textgen.NewGenerator(textgen.GeneratorConfig{Seed: 1, Kinds: []textgen.Kind{textgen.Capital}})
	task := gen.Next()
	fmt.Println(task.Prompt)

	backend, _ := textgen.NewBuiltin(textgen.BuiltinConfig{})
	res, _ := backend.Generate(context.Background(), textgen.Request{
		Messages: []textgen.Message{{Role: "user", Content: task.Prompt}},
	}, nil)
	fmt.Println(res.Text, textgen.Check(task, res.Text))
	fmt.Println(textgen.Check(task, "It is "+task.Answer+"."), textgen.Check(task, "Atlantis"))
	// Output:
	// What is the capital of Germany? Answer with the name only.
	// Berlin 1
	// 0.5 0
}

// Free prompts are scored by similarity to the validator's reference answer.
func ExampleSimilarity() {
	fmt.Printf("%.2f\n", textgen.Similarity("The capital of Peru is Lima.", "Lima is the capital of Peru"))
	fmt.Printf("%.2f\n", textgen.Similarity("The capital of Peru is Lima.", "The capital of Chile is Santiago."))
	// Output:
	// 1.00
	// 0.67
}
