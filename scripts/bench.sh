#!/usr/bin/env bash
# Runs every benchmark and rewrites BENCHMARKS.md with the figures, the machine and the
# commands. Usage: scripts/bench.sh [--quick]
#   --quick: shorter throughput window (10 s instead of the 30 s the figures are quoted at)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
window=30s
[ "${1:-}" = "--quick" ] && window=10s

out=BENCHMARKS.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/bench.sh\` — do not edit by hand; run the script to refresh."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(go version | cut -d' ' -f3-)"
  echo "- note: a shared machine; figures vary by ±20% between runs."
  echo
} >"$tmp/head.md"

run_bench() { # title, command...
  local title=$1; shift
  echo "== $title: $*" >&2
  {
    echo "## $title"
    echo
    echo '```'
    echo "\$ $*"
    "$@" 2>&1 | grep -E '^(Benchmark|ok|PASS|FAIL|goos|goarch|cpu|pkg|tessera|cometbft|  )' || true
    echo '```'
    echo
  } >>"$tmp/body.md"
}

# The in-memory benchmarks run first: right after the chain and store runs, which write
# hundreds of megabytes, the machine flushes them to disk for a while, and memory-bound
# benchmarks measured then (the Yuma epoch) come out up to 70% slower.
run_bench "sr25519 sign and verify, one core" go test ./keys -run '^$' -bench 'Sign|Verify' -cpu 1 -benchmem
run_bench "Transaction decode and signature check, one core" go test ./tx -run '^$' -bench . -cpu 1 -benchmem
run_bench "Yuma epoch, one core (4096 uids x 256 validators, through a kept Workspace and with fresh buffers, and with liquid alpha and original Yuma; 256 x 64)" go test ./yuma -run '^$' -bench 'Epoch4096x256|Epoch256x64$|EpochVariants/n=4096' -cpu 1 -benchtime 100x -benchmem
run_bench "Yuma epoch, one core, without the assembly kernels (-tags purego: the portable Go every machine runs), the yardstick in the same run for what the kernels give on this machine" go test -tags purego ./yuma -run '^$' -bench 'Epoch4096x256$' -cpu 1 -benchtime 100x
run_bench "Yuma's consensus step alone (the stake-weighted median of every column of the 4096 x 256 epoch, one part), one core" go test ./yuma -run '^$' -bench 'Consensus4096x256$' -cpu 1 -benchtime 100x
run_bench "Yuma epoch on two cores (4096 x 256 through a kept Workspace: the consensus, bonds walk and dividends split across GOMAXPROCS goroutines; cpu-ns/op is the CPU of both)" go test ./yuma -run '^$' -bench 'Epoch4096x256$' -cpu 2 -benchtime 100x
run_bench "A stored weights or bonds row of 4096 entries decoded (an epoch of a 4096-uid subnet decodes 512)" go test ./modules/subnets -run '^$' -bench RowDecode -cpu 1 -benchmem
run_bench "Dynamic TAO pure core, one core: swap, quote and stake on the exact (w = 0.5) and fallback (w off 0.5) power paths, the power routine itself, and the per-block coinbase of 128 subnets (injection, and the worst case where every subnet chain-buys); cpu-ns/op is CPU time, ns/op wall time" go test ./dtao -run '^$' -bench . -cpu 1 -benchmem
run_bench "The application's share of a transfer: 1,000 signed transfers through CheckTx, then FinalizeBlock and Commit (in-memory store)" go test ./app -run '^$' -bench TransferBlock -benchtime 20x
run_bench "The epoch block of a 4096-uid subnet (256 validators x 3840 miners) through the application: state, Yuma, payments, writes, commit (in-memory store); classic (dtao: false) and dTAO (the block's coinbase, stake in alpha + root x tao_weight, paid in alpha); and a block of 256 set_weights of 3840 entries each (ns/tx per set_weights)" go test ./modules/subnets/keeper -run '^$' -bench 'ChainEpoch|SetWeightsBlock' -benchtime 10x
run_bench "The dTAO coinbase of 128 subnets through the staking keeper: read the pools, dtao.RunCoinbase and the moving prices, write the pools and the issuance (in-memory store); and a root claim (sell the owed alpha, stake the TAO on root) on a pool off w = 0.5" go test ./modules/stake/keeper -run '^$' -bench 'Coinbase128|ClaimRoot' -benchtime 500x
for pkg in wire; do
  if [ -d "$pkg" ] && grep -qs '^func Benchmark' "$pkg"/*_test.go "$pkg"/*/*_test.go; then
    run_bench "$pkg" go test "./$pkg/..." -run '^$' -bench . -benchmem
  fi
done
run_bench "OpenAI-compatible gateway: overhead over a direct signed call (the textgen subnet's miners, and the inference network's API nodes, each measured beside its direct call in the same run), throughput, streaming, routing by model" go test ./gateway -run '^$' -bench 'Overhead|Throughput|GatewayStream|RouteByModel' -benchtime 2000x -benchmem
run_bench "Gateway traffic stats: recording one request and one attempt in the ring buffers (all CPUs at once), and one GET /v1/stats over full 1024-sample windows" go test ./gateway -run '^$' -bench 'StatsRecord|StatsGet' -benchmem
if [ -d sdk ]; then
  run_bench "SDK AI/ML layer" go test ./sdk/... -run '^$' -bench . -benchmem
fi
run_bench "Kernel league: the judge's overhead per submission apart from the benchmark (file:// fetch, tree and import checks, sandboxed go build with a warm cache, sandbox start and stop; target under 2 s)" go test ./subnets/kernelbench -run '^$' -bench JudgeOverhead -benchtime 10x
run_bench "LM engine kernels, one core: the int8 block matrix-vector product (MMAC/s) beside the minimal AVX2 int8 dot loop (PeakDot, the machine's limit) and the memory bandwidth, in the same run" go test ./lm/kernel -run '^$' -bench 'PeakDot|MatVec|MatMulBatch|MemBandwidth' -cpu 1
run_bench "LM engine fixed-point functions, tokenizer and GGUF decoding" go test ./lm/fixed ./lm/tokenizer ./lm/gguf -run '^$' -bench . -benchmem
run_bench "LM engine on a random model with TinyLlama-1.1B's dimensions (Q8_0, 1.17 GB, written by WriteRandom): prompt (64 tokens per Forward) and decode tokens/s with 1 and 2 threads, 4 sequences batched; decode states the memory bandwidth measured in the same run and the share of weights/bandwidth reached" go test ./lm -run '^$' -bench 'TinyLlama(Prompt|Decode|BatchDecode)' -benchtime 10x
run_bench "LM engine peak memory: load the 1.17 GB Q8_0 model and generate 256 tokens, alone in its process (target: file + KV cache + 10 %)" go test ./lm -run '^$' -bench TinyLlamaMemory -benchtime 1x
run_bench "JSON API event streams (/v1/events): CPU per new block fanned out to 10 SSE clients on loopback (readers included; at 1 s blocks, cpu-µs/block millionths of a core)" go test ./api -run '^$' -bench EventsFanout10 -benchtime 2000x -benchmem
run_bench "JSON API event streams on a single-node chain at 1 s blocks: process CPU over 20 s without streams, 20 s with 10 streams read, 20 s without again" go test ./api -run '^$' -bench EventStreamsCPU -benchtime 1x
run_bench "Proof of Compute, one core: nonces/s on the default PoC dimensions with the PoC multiply-add rate beside the engine kernel's (MatMul over the batch's rows and MatVec, on a Width x Width matrix, timed in the same iterations; target >= 50 %), validating a 200-nonce sample (target < 1 s), building the stage's model, the pure rewards and selection work for 100 participants x 10 MLNodes, the exact test's critical value, a 100,000-nonce commitment tree" go test ./poc -run '^$' -bench 'Nonces|Validate200|NewRunner|Epoch100x10|Critical|Tree' -cpu 1
run_bench "Inference module: the end block of each stage transition (PoC start with the uptime selection, validation start, formation, switch) on a subnet of 100 participants x 10 MLNodes with 100 validators, in its second epoch (target < 50 ms each)" go test ./modules/inference/keeper -run '^$' -bench StageTransition -benchtime 10x
run_bench "Inference records per second the chain takes through the application: 8 TAs x 400 batched start entries a block (user signatures checked), the executors' batched finishes, the end block's settlements; CheckTx, FinalizeBlock and Commit (in-memory store; target >= 420/s). And the keeper alone on a 1024-record batch" go test ./app ./modules/inference/keeper -run '^$' -bench 'InferenceRecords|StartFinish1024' -benchtime 3x
run_bench "Inference API node: the routing overhead (user signature, worst-case hold, executor draw, the TA's signed forward, the executor's checks and forward to the MLNode) at p50/p99 and requests/s, beside a direct signed call to the same MLNode in the same run; request parsing, the draw, the executor's body rewrite, stream events" go test ./subnets/inference/apinode -run '^$' -bench 'Routing|ParseRequest|Draw|RunBody|StreamEvents' -benchmem
run_bench "Signed HTTP requests: verifying one (sr25519, timestamp window, replay cache); the MLNode's signed forward of a one-token request and its exact check of a 64-token chat completion" go test ./subnets/inference/signed ./subnets/inference/mlnode -run '^$' -bench 'Verify|Forward|Check' -benchmem
run_bench "Exact replay check of a 256-token completion, one core, on the shared tiny llama (../shared/models) and on a random tiny model (target < 50 ms); one position's draw and log-probabilities beside generation's" go test ./lm -run '^$' -bench 'Replay256|Position' -cpu 1 -benchtime 10x
run_bench "Honest JSON API reads (p50/p99) while one client floods a single-node chain with maximal hostile queries (RPC and API)" go test ./node -run '^$' -bench QueryFlood -benchtime 5000x
run_bench "IAVL commit of 10k and 100k writes in one block" go test ./store -run '^$' -bench Commit -benchtime 3x
sync
go build -o "$tmp/tessera" ./cmd/tessera
run_bench "Sustained signed transfers through a single-node chain (1 s blocks), with CometBFT's kvstore as yardstick" \
  "$tmp/tessera" bench transfers --duration "$window" --yardstick --log-level error
sync
run_bench "set_weights of 256 entries (64 validators, 256-uid subnet) through a single-node chain (1 s blocks)" \
  "$tmp/tessera" bench transfers --set-weights --max-rate 4000 --duration "$window" --log-level error
if command -v chromium >/dev/null || [ -n "${TESSERA_CHROMIUM:-}" ]; then
  run_bench "The explorer's first load on tessera devnet (1 s blocks, miners, validators, gateway) in headless Chromium: navigation start to the chain page's data on screen, with an empty cache (cold-ms, median and max of 10) and with the cache (warm-ms); target under 1 s" \
    go test ./e2e -run '^$' -bench ExplorerFirstLoad -benchtime 10x
fi
cat "$tmp/head.md" "$tmp/body.md" >"$out"
echo "wrote $out" >&2
