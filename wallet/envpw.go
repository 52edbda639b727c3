package wallet

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PlainPasswordEnv is Tessera's own password variable: its value is the key file
// password as is. It applies to every encrypted key file the tessera CLI opens or
// writes, after --password-file and the per-file BT_PW_ variable.
const PlainPasswordEnv = "TESSERA_PASSWORD"

// PasswordEnvName is the btwallet environment variable that holds the password of one key
// file: "BT_PW_" + the absolute path with path separators and dots replaced by "_",
// upper-cased. /home/alice/.bittensor/wallets/default/coldkey gives
// BT_PW__HOME_ALICE__BITTENSOR_WALLETS_DEFAULT_COLDKEY.
func PasswordEnvName(keyfilePath string) string {
	if abs, err := filepath.Abs(keyfilePath); err == nil {
		keyfilePath = abs
	}
	name := strings.ReplaceAll(keyfilePath, string(os.PathSeparator), "_")
	name = strings.ReplaceAll(name, ".", "_")
	return "BT_PW_" + strings.ToUpper(name)
}

// ObfuscatePassword encodes a password for a BT_PW_ variable as btwallet does:
// base64(password XOR the variable name repeated). This hides the password from a casual
// look at the environment; it is not encryption.
func ObfuscatePassword(password, envName string) string {
	return base64.StdEncoding.EncodeToString(xorCycle([]byte(password), envName))
}

// DeobfuscatePassword reverses ObfuscatePassword. A value that is not base64, which is
// what a plain password usually is, is reported as such.
func DeobfuscatePassword(value, envName string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", fmt.Errorf("%s is not base64: it must hold base64(password XOR variable name), as btwallet writes it (for a plain password use %s)", envName, PlainPasswordEnv)
	}
	return string(xorCycle(b, envName)), nil
}

func xorCycle(b []byte, key string) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ key[i%len(key)]
	}
	return out
}

// EnvPassword looks up the password of a key file in the environment: first the file's
// BT_PW_ variable (obfuscated, as btwallet sets it), then PlainPasswordEnv. ok is false
// when neither is set.
func EnvPassword(keyfilePath string, getenv func(string) string) (password []byte, ok bool, err error) {
	name := PasswordEnvName(keyfilePath)
	if v := getenv(name); v != "" {
		pw, err := DeobfuscatePassword(v, name)
		if err != nil {
			return nil, false, err
		}
		if pw == "" {
			return nil, false, errors.New(name + " decodes to an empty password")
		}
		return []byte(pw), true, nil
	}
	if v := getenv(PlainPasswordEnv); v != "" {
		return []byte(v), true, nil
	}
	return nil, false, nil
}
