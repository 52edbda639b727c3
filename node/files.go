package node

import (
	"encoding/json"
	"fmt"
	"os"
)

// checkJSONFile reports a missing, unreadable or non-JSON file with a clear message.
func checkJSONFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !json.Valid(b) {
		return fmt.Errorf("%s is not valid JSON (corrupt or truncated)", path)
	}
	return nil
}
