#!/usr/bin/env bash
# `npm start`: the main job. Checks/installs what is missing (scripts/ensure-setup.sh), then executes
# notebooks/02-gated.ipynb with its default configuration on MNIST (gated PixelCNN, -x 5 -k 5 -c 30,
# 3 epochs of 1,920 images at batch 64) and writes reports/02-gated.html.
# Takes about 5 minutes on 2 CPU cores with the wasm backend (4:20 measured; training uses both cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-setup.sh
echo "npm start: training the gated PixelCNN of notebooks/02-gated.ipynb on MNIST and writing reports/02-gated.html"
echo "npm start: expect about 5 minutes on 2 CPU cores (wasm backend); progress follows"
exec node --import tsx lib/report/cli.ts 02-gated "$@"
