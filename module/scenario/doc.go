// Package scenario runs scenario files: plain-text stories of a chain, one command after
// another, each followed by the output it must give. It drives a real application through
// ABCI (InitChain, CheckTx, FinalizeBlock, Commit, Query), so a scenario shows what a user
// of the chain would see, and a newcomer can read a module's rules without reading Go.
//
// A scenario file is a github.com/cockroachdb/datadriven file: a command line, its input
// lines, a line "----", and the expected output, blocks separated by a blank line. Lines
// starting with "#" are comments. For example:
//
//	# Alice pays Bob; the fee goes to the fee pool.
//	genesis min_fee=0.01
//	alice 100
//	----
//	ok
//
//	tx from=alice
//	transfer to=bob amount=1.5
//	----
//	mempool: ok
//
// The commands:
//
//	genesis [min_fee=T]      starts a new chain (InitChain) with the accounts funded on
//	                         its input lines, "<account> <tokens>" each, and the module
//	                         sections of "app_state <module> <json>" lines; prints "ok" or
//	                         the error. Every genesis throws the previous chain away.
//	tx from=A [fee=T] [nonce=N]
//	                         signs each input line, a message "<word> key=value ...", as a
//	                         transaction of A and offers it to the mempool (CheckTx);
//	                         prints one verdict a line: "mempool: ok" or the result code's
//	                         name and log. Accepted transactions wait for the next block.
//	                         The nonce defaults to A's next one (committed and in the
//	                         mempool), the fee to the chain's minimum fee; N counts up from
//	                         the given nonce for the further lines.
//	block [time=RFC3339] [count=N]
//	                         executes the accepted transactions as the next block
//	                         (FinalizeBlock, then Commit) and prints each transaction's
//	                         result and events, then the end-block events. The time
//	                         defaults to one second after the previous block. With
//	                         count=N it runs N blocks a second apart (the transactions
//	                         in the first) and prints only those with events, and the
//	                         last.
//	query <path>             an ABCI query; prints the JSON answer indented, or the code
//	                         and log. Path segments from the third on that are account
//	                         names are replaced by the account's address.
//	balance A [B ...]        each account's balance in tokens.
//
// Queries and balances read the last committed block, as a node's queries do: the genesis
// state shows from block 1 on.
//
// Accounts are written by name: alice, bob, charlie, dave, eve and ferdie are the
// development keys //Alice … //Ferdie; any other name (a lowercase word: letters, digits,
// "_") is the key derived from "//" + name. Wherever a name is expected an SS58 address or
// 0x-hex key may stand instead, and in the output every named account's address and hex
// key is printed as its name. Amounts and fees are in tokens ("1.5"); event attributes
// are the chain's own, in the smallest unit (10^9 per token).
//
// The message words are not fixed: a test passes tables of MsgBuilders (AccountsMsgs,
// StakeMsgs, SubnetsMsgs, or its own) that turn a message line's arguments into a message.
//
// Run a module's scenarios with "go test ./modules/<module>/ -run TestScenarios"; add
// "-rewrite" to write each command's actual output into the files in place of the
// expected one (then read the diff: it is the change in behaviour).
package scenario
