#!/usr/bin/env bash
# The paper's ablation, reproduced small (docs/TRAINING.md): four recipes
# on the same data with the same budget, sharing one stage 0 (the 2D
# model every recipe starts from, trained once), then exported and scored
# by tools/eval on the test split with the Go engine.
#
#   tools/train/ablation.sh DATA OUT S0_FINAL STEPS [EXTRA TRAIN FLAGS...]
#   e.g. tools/train/ablation.sh /work/data/demo runs/ablation runs/demo/s0/final.pt 0:120,1:60,2:40 --lr 2e-3
#
# STEPS must give stage 0 the steps S0_FINAL was trained with (it is reused,
# not retrained); (a)-(c) get the s1+s2 steps in one stage. The four runs go
# in parallel, one thread each, at nice 15. Run again, it skips the training
# of rows that have a run already and exports and scores them again.
# EVAL_LIMIT=N scores the first N test cases only (default: all).
set -euo pipefail
cd "$(dirname "$0")/../.."
if (($# < 4)); then
	sed -n '2,14p' "$0"
	exit 2
fi
data=$1 out=$2 s0=$3 steps=$4
shift 4
recipes=(2d 3d one-stage two-stage)
mkdir -p "$out"
for r in "${recipes[@]}"; do
	if [ -e "$out/$r/run.json" ]; then
		continue # trained already: export and score again
	fi
	mkdir -p "$out/$r/s0"
	cp "$s0" "$out/$r/s0/final.pt"
	nice -n 15 /usr/bin/python3 tools/train/train.py --data "$data" --out "$out/$r" --recipe "$r" --size demo \
		--steps "$steps" --threads 1 --eval-n 0 "$@" >"$out/$r.log" 2>&1 &
done
wait
for r in "${recipes[@]}"; do
	last=$(ls -d "$out/$r"/s1* "$out/$r"/s2 2>/dev/null | tail -1 || true)
	rm -rf "$out/$r/model"
	/usr/bin/python3 tools/train/export.py "$last/final.pt" --out "$out/$r/model" >>"$out/$r.log" 2>&1
	nice -n 15 go run ./tools/eval --weights "$out/$r/model" --data "$data" --split test --limit "${EVAL_LIMIT:-0}" --json >"$out/$r.eval.json"
done
/usr/bin/python3 - "$out" "${recipes[@]}" <<'EOF'
import json, sys
out, recipes = sys.argv[1], sys.argv[2:]
rows = {"2d": "(a) 2D baseline", "3d": "(b) 3D, no MoE", "one-stage": "(c) TGH-MoE, one stage", "two-stage": "(d) TGH-MoE, two stages"}
print("| row | closed-VQA acc (how) | report finding recall | report METEOR | report ROUGE-1 | open keyword match | open METEOR | task router |")
print("|---|---|---|---|---|---|---|---|")
f = lambda v: "%.3f" % v if isinstance(v, (int, float)) else "–"
prior = None
for r in recipes:
    e = json.load(open("%s/%s.eval.json" % (out, r)))
    rep, cl, op = e.get("report", {}), e.get("closed_vqa", {}), e.get("open_vqa", {})
    prior = cl.get("prior_accuracy", prior)
    print("| %s | %s (%s) | %s | %s | %s | %s | %s | %s |" % (rows[r], f(cl.get("accuracy")), cl.get("mode", "generate"),
          f(rep.get("finding_recall")), f(rep.get("meteor")), f(rep.get("rouge1")), f(op.get("keyword_match")), f(op.get("meteor")),
          f(e.get("router_accuracy")) if r in ("one-stage", "two-stage") else "–"))
print("| blind answer prior | %s | – | – | – | – | – | – |" % f(prior))
EOF
