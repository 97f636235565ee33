#!/bin/bash
# Submit a run's chain of chunk jobs, sized and named by the trainer itself:
#
#   scripts/slurm/submit.sh --config run.yaml --logdir runs/my_training --chunked --chunk-minutes 50
#
# Every argument goes to holdem-train-blueprint. `holdem-train-blueprint ARGS --print-sbatch`
# prints the run's #SBATCH lines (job name holdem-<run>-<hash>, --mem from the solver's memory
# sizing, --cpus-per-task); they are passed to sbatch for this job and, through
# HOLDEM_SBATCH_OPTIONS, to every successor. The training command is the checkout's
# bin/holdem-train-blueprint (or HOLDEM_TRAIN), so the virtualenv need not be on PATH.
# Extra sbatch options (a partition, a time limit) go in SBATCH_* environment variables.
set -eu

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
train=${HOLDEM_TRAIN:-$here/../../bin/holdem-train-blueprint}
train=$(readlink -f "$train" 2>/dev/null || command -v "$train")

lines=$("$train" "$@" --print-sbatch)
options=$(printf '%s\n' "$lines" | sed -n 's/^#SBATCH //p' | tr '\n' ' ')
name=$(printf '%s\n' "$lines" | sed -n 's/^#SBATCH --job-name=//p')

export HOLDEM_TRAIN=$train
export HOLDEM_SBATCH_OPTIONS=$options
# shellcheck disable=SC2086  # the options are words by design
job=$(sbatch --parsable $options "$here/train_chunk.sbatch" "$@")
echo "submitted job ${job%%;*} ($options)"
echo "stop this run's chain with: scancel --name=$name"
