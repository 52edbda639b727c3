// Package wallet reads and writes Bittensor-compatible wallets: a directory per wallet
// holding an encrypted coldkey, its public half, and any number of hotkeys.
//
//	<path>/<name>/coldkey                  key file, $NACL-encrypted by default
//	<path>/<name>/coldkeypub.txt           public key file
//	<path>/<name>/hotkeys/<hotkey>         key file, unencrypted by default
//	<path>/<name>/hotkeys/<hotkey>pub.txt  public key file
//
// The layout, the key file JSON and the $NACL encryption (Argon2i v1.3 with
// libsodium's "sensitive" limits and XSalsa20-Poly1305) are those of btwallet 4 and the
// Python SDK, so a Bittensor wallet directory such as ~/.bittensor/wallets works as is,
// and a wallet written here works with btcli. Legacy Fernet-encrypted key files from old
// Python SDKs can be read; ansible-vault ones cannot.
//
// The package has three layers: pure functions over bytes (key file JSON, encryption,
// the password obfuscation of BT_PW_ variables), key files on disk (atomic writes with
// mode 0600, reads with clear errors naming the file), and Wallet, which knows the layout
// and writes a key file and its public file as one change that a crash cannot split (a
// staging directory, committed by a rename and finished by the next open or save) and
// checks on every open that the two agree.
package wallet
